"""Typed access to the oracle contracts, one module per mechanism (the only web3 user for them)."""

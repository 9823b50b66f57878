"""Pnyx: an open, trustworthy, decentralized marketplace for cloud computing and oracles."""

__version__ = "0.1.0"

"""Everything that talks to an EVM node: the anvil launcher, compiled artifacts, deployment,
signing, transaction sending, revert decoding and event reading. The only package that imports
web3."""

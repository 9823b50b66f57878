"""The local network: anvil with the protocol deployed and funded development accounts, and the
scripted demo that runs on it."""

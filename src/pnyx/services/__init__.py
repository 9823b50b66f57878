"""The off-chain services: market, scheduler, worker, result store. They never import each other."""

"""The oracle node daemons: one process per node of a numeric feed, either submitting to an
on-chain `Aggregator` or taking part in `OffchainReporting` rounds over HTTP."""

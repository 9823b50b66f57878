"""Pure protocol rules: orders and their EIP-712 hashes, deals, task ids and result hashes, the
consensus and credibility math. No I/O here (checked by import-linter)."""

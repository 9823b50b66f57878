"""The `pnyx` command: `pnyx <noun> <verb>`, every command with `--json`, errors as one line."""

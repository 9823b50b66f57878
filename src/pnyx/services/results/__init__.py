"""The results service."""

"""The market service."""

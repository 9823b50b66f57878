"""Typed httpx clients, one per service; the only package that imports httpx."""

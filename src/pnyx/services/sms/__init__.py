"""The Secret Management Service (SMS): secrets for TEE tasks, released only to attested
enclaves."""

"""Wire schemas of the services (pydantic), one module per service, shared by servers and
clients."""

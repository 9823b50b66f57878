"""HTTP building blocks shared by the services: the app factory, the error → status table and the
wire schemas (in `pnyx.api.schemas`), which the typed clients reuse."""

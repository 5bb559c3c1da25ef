"""The HTTP API: dependencies and routers."""

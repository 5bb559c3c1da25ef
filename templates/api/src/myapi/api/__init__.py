"""The api feature: the FastAPI app (`app.py`), /healthz and /readyz, and `serve`."""

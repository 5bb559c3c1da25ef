"""The baseline of bench/load_api.py: FastAPI's hello world, served with the same uvicorn settings."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}

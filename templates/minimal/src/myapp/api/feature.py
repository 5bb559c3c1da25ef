"""The api feature in the registry: the `serve` command; its routes are in web.py."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from myapp.core.registry import Command, Feature

if TYPE_CHECKING:
    from myapp.core.config import Settings


def configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="default: HOST or 127.0.0.1")
    parser.add_argument("--port", type=int, help="default: PORT or 8000")


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from myapp.api.app import create_app
    from myapp.features import FEATURES

    options = {key: value for f in FEATURES for key, value in f.server_options.items()}
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        **options,
    )
    return 0


FEATURE = Feature(
    name="api",
    commands=(
        Command("serve", "run the HTTP API (one uvicorn worker)", configure_serve, run_sync=serve),
    ),
    web=True,
)

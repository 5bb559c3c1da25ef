"""The command line: `myapp COMMAND`,
or `python -m myapp COMMAND`.

Exit codes: 0 success, 1 a dependency or item failed, 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

import myapp
from myapp.core.config import Settings
from myapp.health import Readiness


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myapp",
        description=myapp.__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate the settings and probe every dependency")
    serve = commands.add_parser("serve", help="run the HTTP API (one uvicorn worker)")
    serve.add_argument("--host", help="default: HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: PORT or 8000")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as err:
        problems = (
            f"setting {'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in err.errors()
        )
        print(f"error: {'; '.join(problems)}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(settings, args.host, args.port)
    return asyncio.run(run(args, settings))


async def run(args: argparse.Namespace, settings: Settings) -> int:
    return await check(Readiness({}, timeout=5, cache_seconds=0))


async def check(readiness: Readiness) -> int:
    report = await readiness.check()
    print(report.body.decode())
    return 0 if report.ready else 1


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from myapp.main import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
    )
    return 0

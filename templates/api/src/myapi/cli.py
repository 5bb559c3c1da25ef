"""The command line: `myapi COMMAND`,
or `python -m myapi COMMAND`.

Exit codes: 0 success, 1 a dependency or item failed, 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid
from collections.abc import Sequence
from contextlib import nullcontext

from pydantic import ValidationError

import myapi
from myapi.core.config import Settings
from myapi.health import Readiness
from myapi.items.schemas import ItemCreate
from myapi.observability import tracing
from myapi.observability.logging import JsonLogging, request_id
from myapi.resources import open_resources

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myapi",
        description=myapi.__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate the settings and probe every dependency")
    serve = commands.add_parser("serve", help="run the HTTP API (one uvicorn worker)")
    serve.add_argument("--host", help="default: HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: PORT or 8000")
    items = commands.add_parser("items", help="list or add items").add_subparsers(
        dest="action", required=True
    )
    listing = items.add_parser("list", help="print items as JSON lines")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--offset", type=int, default=0)
    adding = items.add_parser("add", help="add an item and print it")
    adding.add_argument("name")
    adding.add_argument("--description")
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
    logs = JsonLogging(settings.log_level)
    request_id.set(uuid.uuid4().hex)  # the run's id, in every log line
    provider = tracing.create_tracer_provider(settings)
    span = (
        provider.get_tracer(__name__).start_as_current_span(args.command)
        if provider is not None
        else nullcontext()
    )
    try:
        with span:
            code = asyncio.run(run(args, settings))
        fields = {"command": args.command, "exit_code": code}
        logger.info("%s finished", args.command, extra={"fields": fields})
        return code
    finally:
        if provider is not None:
            provider.shutdown()
        logs.close()


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async with open_resources(settings) as resources:
        if args.command == "check":
            return await check(Readiness(resources.probes(), timeout=5, cache_seconds=0))
        if args.action == "add":
            data = ItemCreate(name=args.name, description=args.description)
            item = await resources.items.create(data)
            print(item.model_dump_json())
            return 0
        for item in await resources.items.list_page(args.limit, args.offset):
            print(item.model_dump_json())
        return 0


async def check(readiness: Readiness) -> int:
    report = await readiness.check()
    print(report.body.decode())
    return 0 if report.ready else 1


def serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from myapi.main import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        # The app logs each request as JSON; uvicorn's own lines go to the same JSON log.
        access_log=False,
        log_config=None,
    )
    return 0

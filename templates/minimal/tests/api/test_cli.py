"""The api feature's command."""

from __future__ import annotations

from myapp.cli import build_parser


def test_serve_takes_host_and_port() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 9000)

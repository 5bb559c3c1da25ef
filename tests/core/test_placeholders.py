"""Expanding the plan's placeholders (docs/plan.md)."""

from __future__ import annotations

import pytest

from riso.errors import RisoError
from riso.runner.placeholders import Context


def ctx() -> Context:
    return Context(
        service="postgres",
        root="/p",
        state="/p/.riso/state",
        run="/p/.riso/run",
        logs="/p/.riso/logs",
        ports={"postgres": 5555, "prometheus": 9999},
        binaries={"psql": "/usr/bin/psql", "initdb": None},
    ).with_dirs("/p/.riso/state/postgres", "/p/.riso/run")


def test_every_placeholder_expands() -> None:
    text = "{root} {state} {run} {logs} {data_dir} {socket_dir} {port} {port:prometheus} {bin:psql} {host}"
    assert ctx().expand(text) == (
        "/p /p/.riso/state /p/.riso/run /p/.riso/logs /p/.riso/state/postgres /p/.riso/run 5555 9999 /usr/bin/psql "
        "127.0.0.1"
    )


def test_other_braces_are_left_alone() -> None:
    yaml = "labels: {team: core}\ntargets: ['{host}:{port}']\n{unknown}"
    assert ctx().expand(yaml) == "labels: {team: core}\ntargets: ['127.0.0.1:5555']\n{unknown}"


@pytest.mark.parametrize(
    ("template", "named"),
    [("{port:redis}", "'redis'"), ("{bin:pg_dump}", "pg_dump"), ("{bin:initdb}", "initdb")],
)
def test_unknown_port_or_binary_is_an_error_naming_it(template: str, named: str) -> None:
    with pytest.raises(RisoError, match=named):
        ctx().expand(template)


def test_socket_dir_without_value_is_an_error() -> None:
    bare = Context(service="redis", root="/p", state="/s", run="/r", logs="/l", ports={"redis": 1})
    with pytest.raises(RisoError, match="socket_dir"):
        bare.expand("{socket_dir}")

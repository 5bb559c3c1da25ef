"""The service runner: executes a plan (see docs/runner.md for what it promises under faults).

    runner    Runner: up, down, status, env, logs
    state     the project's `.riso/` folder: layout, decoding, atomic writes, the lock
    process   starting, recognising and stopping processes; the service user
    probes    readiness checks
    hooks     post_start hooks
    binaries  finding server binaries on this machine
    placeholders  expanding `{root}`, `{port}`, `{bin:psql}` in the plan

Importing this package stays light (no pydantic, rich or HTTP stack): `riso up` pays only for
what it uses.
"""

from __future__ import annotations

from riso.runner.runner import (
    CRASHED,
    MISSING,
    RELOCATED,
    RUNNING,
    STOPPED,
    Runner,
    ServiceStatus,
    UpResult,
    follow,
    port_free,
)
from riso.runner.state import StateError

__all__ = [
    "CRASHED",
    "MISSING",
    "RELOCATED",
    "RUNNING",
    "STOPPED",
    "Runner",
    "ServiceStatus",
    "StateError",
    "UpResult",
    "follow",
    "port_free",
]

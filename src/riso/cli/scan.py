"""`riso scan`: the project's security scanners, one table of findings by severity per tool."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from riso.cli.output import out

if TYPE_CHECKING:
    from riso.scan import Report

_HERE = Path()
LEVELS = ("critical", "high", "medium", "low")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def scan(
    path: Annotated[Path, typer.Option("--path", help="A folder inside the project.")] = _HERE,
    fail_on: Annotated[
        str,
        typer.Option("--fail-on", help="Lowest severity that fails: critical, high, medium (as CI) or low."),
    ] = "high",
    service: Annotated[
        str, typer.Option("--vulnerability-service", help="Where pip-audit looks vulnerabilities up: pypi or osv.")
    ] = "pypi",
) -> None:
    """Run bandit, detect-secrets (gitleaks too when on PATH) and pip-audit in the project's environment.

    Exits 1 when a finding reaches --fail-on (a new secret or a known vulnerability always does).
    """
    from riso import config
    from riso import scan as scanning
    from riso.errors import RisoError

    if fail_on not in LEVELS:
        raise RisoError(f"--fail-on {fail_on!r}: use one of {', '.join(LEVELS)}")
    if service not in scanning.SERVICES:
        raise RisoError(f"--vulnerability-service {service!r}: use one of {', '.join(scanning.SERVICES)}")
    report = scanning.scan(config.find_project_root(path), service)
    _show(report, fail_on)
    if not report.passed(fail_on):
        raise typer.Exit(1)


def _show(report: Report, fail_on: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table("tool", *LEVELS, "result", title="security scan", title_justify="left")
    for result in report.results:
        counts = result.counts()
        if result.skipped is not None:
            table.add_row(result.tool, *("-" for _ in LEVELS), f"skipped: {escape(result.skipped)}")
            continue
        failed = bool(result.at_least(fail_on))
        verdict = "[red]fails[/]" if failed else "[green]passes[/]"
        note = f"; {escape(result.note)}" if result.note else ""
        table.add_row(result.tool, *(str(counts[s]) for s in LEVELS), f"{verdict}{note}")
    out.print(table)
    for tool, finding in report.failing(fail_on):
        out.print(f"{tool}: {finding.severity} {finding.where} {finding.what}", markup=False, soft_wrap=True)

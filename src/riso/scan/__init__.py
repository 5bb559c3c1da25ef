"""`riso scan`: a project's security scanners, run in its own environment, as one report.

bandit (code), detect-secrets against `.secrets.baseline` (secrets in the files), gitleaks when it is on
PATH (secrets in the history too) and pip-audit (known vulnerabilities of the locked packages; skipped,
with the reason, when its vulnerability service cannot be asked). The same tools and settings as the
generated CI workflow's security job. Nothing here prints: the CLI (riso.cli.scan) shows the report.
"""

from __future__ import annotations

from pathlib import Path

from riso.scan import run
from riso.scan.report import SEVERITIES, Finding, Report, ToolResult

SERVICES: tuple[str, ...] = ("pypi", "osv")

__all__ = ["SERVICES", "SEVERITIES", "Finding", "Report", "ToolResult", "scan"]


def scan(root: Path, service: str = "pypi") -> Report:
    """Run every scanner on the project at `root`; RisoError (one line) when one cannot run at all."""
    project = run.Project.at(root)
    return Report(
        (
            run.bandit(project),
            run.detect_secrets(project),
            run.gitleaks(project),
            run.pip_audit(project, service),
        )
    )

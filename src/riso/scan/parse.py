"""Each scanner's JSON output turned into findings (pure functions: no process, no file system)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from riso.errors import RisoError
from riso.scan.report import Finding, ToolResult

# How pip-audit's services say a package has no record there (PyPI's per-release JSON answering 404).
NOT_FOUND = "not found on"


def _json(tool: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        first = text.strip().splitlines()[:1]
        raise RisoError(f"{tool} printed no JSON report: {first[0] if first else '(nothing)'}") from None


def bandit(text: str) -> ToolResult:
    """`bandit -f json` output: every issue with its severity (low, medium, high)."""
    data = _json("bandit", text)
    findings = tuple(
        Finding(
            str(issue["issue_severity"]).lower(),
            f"{str(issue['filename']).removeprefix('./')}:{issue['line_number']}",
            f"{issue['test_id']} {issue['issue_text']}",
        )
        for issue in data.get("results", [])
    )
    errors = data.get("errors") or []
    note = f"{len(errors)} file(s) could not be parsed" if errors else ""
    return ToolResult("bandit", findings, note=note)


def _keys(results: Mapping[str, Iterable[Mapping[str, Any]]]) -> set[tuple[str, str, str]]:
    return {(name, str(s["hashed_secret"]), str(s["type"])) for name, found in results.items() for s in found}


def detect_secrets(baseline: Mapping[str, Any], rescanned: Mapping[str, Any]) -> ToolResult:
    """New secrets: those in a rescan (`detect-secrets scan --baseline COPY`) that the baseline lacks.

    A secret the baseline lists was accepted when the baseline was made (or audited); it is counted in
    the note, not as a finding.
    """
    accepted = _keys(baseline.get("results", {}))
    findings = []
    for name, found in sorted(rescanned.get("results", {}).items()):
        for secret in found:
            if (name, str(secret["hashed_secret"]), str(secret["type"])) not in accepted:
                findings.append(Finding("high", f"{name}:{secret.get('line_number', '?')}", f"{secret['type']}"))
    note = f"{len(accepted)} accepted in .secrets.baseline" if accepted else "baseline: none accepted"
    return ToolResult("detect-secrets", tuple(findings), note=note)


def gitleaks(text: str) -> ToolResult:
    """`gitleaks --report-format json` output: every leak is a high finding."""
    data = _json("gitleaks", text or "[]")
    findings = tuple(
        Finding("high", f"{leak.get('File', '?')}:{leak.get('StartLine', '?')}", str(leak.get("RuleID", "secret")))
        for leak in data or []
    )
    return ToolResult("gitleaks", findings)


def pip_audit(text: str, service: str) -> ToolResult:
    """`pip-audit -f json` output: each known vulnerability of a locked package is a high finding.

    When the service knew none of the packages (every one "not found"), nothing was checked: the
    result is skipped with that reason rather than a clean bill.
    """
    data = _json("pip-audit", text)
    dependencies = data.get("dependencies", []) if isinstance(data, dict) else data
    unknown = [d for d in dependencies if NOT_FOUND in str(d.get("skip_reason", ""))]
    if dependencies and len(unknown) == len(dependencies):
        return ToolResult(
            "pip-audit",
            skipped=f"the {service} vulnerability service had no record of any of the {len(dependencies)} "
            "locked packages (it could not be asked for them from here)",
        )
    findings = tuple(
        Finding(
            "high",
            f"{d['name']} {d.get('version', '')}".strip(),
            f"{v['id']}" + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else ""),
        )
        for d in dependencies
        for v in d.get("vulns", [])
    )
    audited = len(dependencies) - len([d for d in dependencies if d.get("skip_reason")])
    note = f"{audited} of {len(dependencies)} packages audited ({service})"
    return ToolResult("pip-audit", findings, note=note)

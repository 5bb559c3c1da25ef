"""The scanners' JSON reports read into findings; the report's verdict by severity."""

from __future__ import annotations

import json

import pytest

from riso.errors import RisoError
from riso.scan import parse
from riso.scan.report import Finding, Report, ToolResult

NOT_FOUND = "Dependency not found on PyPI and could not be audited: {} (1.0)"


def _issue(severity: str, filename: str, line: int, test_id: str, text: str) -> dict[str, object]:
    return {
        "issue_severity": severity,
        "filename": filename,
        "line_number": line,
        "test_id": test_id,
        "issue_text": text,
    }


def test_bandit_issues_keep_their_severity_and_place() -> None:
    report = {
        "errors": [],
        "results": [_issue("HIGH", "./src/a.py", 3, "B602", "x"), _issue("LOW", "src/b.py", 9, "B101", "y")],
    }
    result = parse.bandit(json.dumps(report))
    assert result.counts() == {"critical": 0, "high": 1, "medium": 0, "low": 1}
    assert result.findings[0] == Finding("high", "src/a.py:3", "B602 x")
    assert [f.where for f in result.at_least("medium")] == ["src/a.py:3"]


def test_a_report_that_is_not_json_is_one_clear_error() -> None:
    with pytest.raises(RisoError, match="bandit printed no JSON report: Traceback"):
        parse.bandit("Traceback (most recent call last):\n  boom")


def _secret(name: str, digest: str, line: int = 1) -> dict[str, object]:
    return {"type": "Secret Keyword", "filename": name, "hashed_secret": digest, "line_number": line}


def test_only_secrets_the_baseline_lacks_are_new() -> None:
    baseline = {"results": {"a.py": [_secret("a.py", "aaa")]}}
    rescanned = {"results": {"a.py": [_secret("a.py", "aaa", 7)], "b.py": [_secret("b.py", "bbb", 2)]}}
    result = parse.detect_secrets(baseline, rescanned)
    assert result.findings == (Finding("high", "b.py:2", "Secret Keyword"),)
    assert result.note == "1 accepted in .secrets.baseline"


def test_gitleaks_leaks_are_high() -> None:
    leaks = [{"File": "conf.py", "StartLine": 4, "RuleID": "generic-api-key"}]
    assert parse.gitleaks(json.dumps(leaks)).findings == (Finding("high", "conf.py:4", "generic-api-key"),)
    assert parse.gitleaks("").findings == ()


def test_pip_audit_that_could_ask_about_no_package_is_skipped_not_clean() -> None:
    report = {"dependencies": [{"name": n, "skip_reason": NOT_FOUND.format(n)} for n in ("anyio", "idna")]}
    result = parse.pip_audit(json.dumps(report), "pypi")
    assert result.skipped is not None and "none" not in result.skipped
    assert "any of the 2 locked packages" in result.skipped
    assert Report((result,)).passed("low")


def test_pip_audit_vulnerabilities_are_high_and_name_their_fix() -> None:
    report = {
        "dependencies": [
            {"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "GHSA-1", "fix_versions": ["3.1.4"]}]},
            {"name": "idna", "version": "3.7", "vulns": []},
            {"name": "local", "skip_reason": NOT_FOUND.format("local")},
        ]
    }
    result = parse.pip_audit(json.dumps(report), "pypi")
    assert result.findings == (Finding("high", "jinja2 3.1.0", "GHSA-1 (fixed in 3.1.4)"),)
    assert result.note == "2 of 3 packages audited (pypi)"
    assert not Report((result,)).passed("high")


def test_the_verdict_follows_the_threshold() -> None:
    medium = ToolResult("bandit", (Finding("medium", "a.py:1", "B104"),))
    skipped = ToolResult("pip-audit", skipped="unreachable")
    report = Report((medium, skipped))
    assert report.passed("high") and not report.passed("medium")
    assert report.failing("low") == [("bandit", medium.findings[0])]

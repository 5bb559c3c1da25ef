"""Security scan of every valid feature combination: bandit and detect-secrets per render, pip-audit once.

    python bench/security_scan.py [--out bench/security_scan.results.md]

Renders each combination of `riso.features.valid_combinations()` (uv, compose flavour) and runs on it what
the generated CI workflow's security job runs, with the same settings (the render's `[tool.bandit]` and
`.secrets.baseline`): bandit over the whole render, detect-secrets over every file against the baseline.
The scanners are riso's own test dependencies (the versions the renders lock). pip-audit runs once, on the
union of every render's dependencies (`checks/combinations/uv.lock`, exported with its hashes), and the
results file says what its vulnerability service could and could not answer from this machine.
Target: no finding of high or critical severity in any combination, and no secret.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from riso import generate
from riso.features import valid_combinations
from riso.scan import SEVERITIES, ToolResult, run

REPO = Path(__file__).resolve().parents[1]
UNION = REPO / "checks" / "combinations"


def version(tool: str) -> str:
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0]


def label(combination: tuple[str, ...]) -> str:
    return ",".join(combination) or "(none)"


def scan_render(combination: tuple[str, ...], scratch: Path) -> tuple[ToolResult, ToolResult]:
    dest = scratch / (label(combination).replace(",", "-").strip("()") or "none") / "demo"
    generate.render(dest, {"project_name": "demo", "features": list(combination)})
    project = run.Project(dest, "uv", own_environment=False)
    return run.bandit(project), run.detect_secrets(project)


def counts_cell(result: ToolResult) -> str:
    counts = result.counts()
    return " | ".join(str(counts[s]) for s in SEVERITIES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "security_scan.results.md")
    args = parser.parse_args()

    combinations = valid_combinations()
    rows: list[str] = []
    low_ids: Counter[str] = Counter()
    worst = Counter[str]()
    secrets_total = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="riso-security-bench-") as tmp:
        for combination in combinations:
            bandit, secrets = scan_render(combination, Path(tmp))
            for finding in bandit.findings:
                worst[finding.severity] += 1
                low_ids[finding.what.split()[0]] += finding.severity == "low"
            secrets_total += len(secrets.findings)
            verdict = "ok" if not bandit.at_least("high") and not secrets.findings else "**fails**"
            rows.append(f"| {label(combination)} | {counts_cell(bandit)} | {len(secrets.findings)} | {verdict} |")
            print(rows[-1], file=sys.stderr)
    audit = run.pip_audit(run.Project(UNION, "uv", own_environment=False))
    elapsed = time.monotonic() - started

    lines = [
        "# Security scan of every feature combination",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "- command: `python bench/security_scan.py` (from a clone after `bash scripts/setup`)",
        f"- tools: {version('bandit')}; detect-secrets {version('detect-secrets')}; {version('pip-audit')}",
        f"- {len(combinations)} valid combinations (uv renders, compose flavour), scanned in {elapsed:.0f} s",
        "- bandit: `bandit -c pyproject.toml -r .` in the render (its `[tool.bandit]`); the CI job fails on medium",
        "  and high; detect-secrets: every file against the render's `.secrets.baseline` (new secrets)",
        "",
        "| combination | bandit critical | high | medium | low | new secrets | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        "",
        f"Totals over all combinations: bandit {dict(worst) or 'nothing'}; new secrets {secrets_total}.",
        "",
        "Low findings (reported, never failing), by bandit test id, summed over the combinations:",
        "",
        *(f"- {k}: {v}" for k, v in sorted(low_ids.items()) if v),
        "",
        "B101 is `assert` in src/ (type narrowing in the api feature's error handlers), B311 the request id's",
        "`random.getrandbits` (unique, not secret), B603 the tests' subprocess calls with fixed argument lists.",
        "",
        "## pip-audit on the union lock",
        "",
        "`uv export --frozen --format requirements-txt --no-emit-project` of `checks/combinations/uv.lock`",
        "(every render's dependencies) read by `pip-audit --requirement … --disable-pip --vulnerability-service pypi`:",
        "",
        f"- result: {'skipped: ' + audit.skipped if audit.skipped else audit.note}",
        f"- known vulnerabilities: {'not checked' if audit.skipped else len(audit.findings)}",
        *(f"  - {f.where}: {f.what}" for f in audit.findings),
        "",
        "See docs/security.md for what pip-audit can and cannot check from this machine.",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    failing = any("**fails**" in row for row in rows)
    return 1 if failing else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Running wrk and reading its report (requests/s, latency percentiles, errors)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors (connect, read, write) + non-2xx/3xx responses
    timeouts: int


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse(report: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", report).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", report).group(1))  # type: ignore[union-attr]
    errors = timeouts = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    if sock:
        errors += int(sock.group(1)) + int(sock.group(2)) + int(sock.group(3))
        timeouts = int(sock.group(4))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    if non2xx:
        errors += int(non2xx.group(1))
    return WrkResult(rps, p50, p99, errors, timeouts)


def run(url: str, connections: int, seconds: int, threads: int = 2, timeout_s: int = 2) -> WrkResult:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "--latency", url]
    report = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return parse(report)

"""The cache feature's command: `fibonacci N`, cached in Redis."""

from __future__ import annotations

import pytest
import redis

from myapi.cli import main
from myapi.core.config import Settings


@pytest.mark.usefixtures("service_environment")
def test_fibonacci_is_cached(
    capsys: pytest.CaptureFixture[str], redis_url: str, settings: Settings
) -> None:
    assert main(["fibonacci", "90"]) == 0
    assert capsys.readouterr().out == "2880067194370816120\n"
    client = redis.Redis.from_url(redis_url)
    try:
        key = f"{settings.app_name}:fibonacci:90"
        assert client.get(key) == b"2880067194370816120"
        client.set(key, b"42")  # a cache hit now prints the stored value
        assert main(["fibonacci", "90"]) == 0
        assert capsys.readouterr().out == "42\n"
    finally:
        client.close()


def test_fibonacci_rejects_a_bad_n(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fibonacci", "-3"])
    assert exit_info.value.code == 2
    assert "N must be a whole number" in capsys.readouterr().err

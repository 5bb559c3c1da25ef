"""The tasks feature's settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from myapi.tasks.settings import Settings


def test_redis_url_must_be_redis() -> None:
    with pytest.raises(ValidationError, match="redis://"):
        Settings(redis_url="http://broker.example")


def test_the_heartbeat_schedule_must_be_cron() -> None:
    assert Settings(redis_url="redis://x/0", tasks_heartbeat_cron="*/5 * * * * 30")
    with pytest.raises(ValidationError, match="not a cron expression"):
        Settings(redis_url="redis://x/0", tasks_heartbeat_cron="every minute")

"""The tasks feature's settings: the broker (Redis) and how jobs run, retry and recover."""

from __future__ import annotations

from croniter import croniter
from pydantic import Field, field_validator

from myapi.core.settings import RedisUrl


class Settings(RedisUrl):
    """SAQ on Redis (`REDIS_URL` is core's, shared with the cache feature). Values are SAQ's job
    and worker options, set explicitly (docs: saq)."""

    tasks_queue: str = "myapi"
    """Queue name: its keys in Redis are `saq:<name>:*`."""
    tasks_concurrency: int = Field(10, ge=1)
    """Jobs one worker process runs at the same time."""
    tasks_job_timeout: int = Field(5, ge=1)
    """Seconds a job may run before it is cancelled and retried; a job whose worker died is
    retried once it is this old (plus a sweep interval). Pass `timeout=` for longer jobs."""
    tasks_max_attempts: int = Field(5, ge=1)
    """Attempts in all (SAQ's `retries`), then the job fails and goes to the dead-letter list."""
    tasks_retry_delay: float = Field(1.0, ge=0)
    """Seconds: the first retry waits up to this long, each next one up to twice as long."""
    tasks_retry_max_delay: float = Field(60.0, gt=0)
    """Seconds: the longest a retry waits."""
    tasks_result_ttl: int = Field(600, ge=1)
    """Seconds a finished job's status and result stay readable."""
    tasks_sweep_seconds: int = Field(1, ge=1)
    """How often a worker looks for jobs whose worker died (SAQ's default is 60 s)."""
    tasks_shutdown_grace_seconds: int = Field(5, ge=0)
    """On SIGTERM or SIGINT, seconds running jobs get to finish before they are cancelled and
    queued again (keep it below the process manager's stop timeout: riso's is 10 s)."""
    tasks_heartbeat_cron: str = "* * * * *"
    """When the periodic `heartbeat` job runs (cron; a sixth field is seconds)."""
    tasks_dead_letter_max: int = Field(1000, ge=1)
    """Failed jobs kept in the dead-letter list (the oldest are dropped)."""

    @field_validator("tasks_heartbeat_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value

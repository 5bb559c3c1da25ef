"""The monitoring feature in the registry: every CLI run logs JSON lines under one run id and is
traced when an OTLP endpoint is set; `serve` hands uvicorn's logging to the app. The app's part
(metrics, request ids, spans per request) is in web.py."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

from myapi.core.context import request_id
from myapi.core.registry import Feature
from myapi.monitoring import tracing
from myapi.monitoring.logging import JsonLogging

if TYPE_CHECKING:
    from myapi.core.config import Settings

logger = logging.getLogger(__name__)


@contextmanager
def observed_run(settings: Settings, command: str) -> Iterator[Callable[[int], None]]:
    """JSON logs and a span for one CLI run; the callback logs how it finished."""
    provider = tracing.create_tracer_provider(settings)
    context = tracing.current_ids if provider is not None else None
    logs = JsonLogging(settings.log_level, context=context)
    request_id.set(uuid.uuid4().hex)  # the run's id, in every log line
    span = (
        provider.get_tracer(__name__).start_as_current_span(command)
        if provider is not None
        else nullcontext()
    )

    def finished(code: int) -> None:
        fields = {"command": command, "exit_code": code}
        logger.info("%s finished", command, extra={"fields": fields})

    try:
        with span:
            yield finished
    finally:
        if provider is not None:
            provider.shutdown()
        logs.close()


FEATURE = Feature(
    name="monitoring",
    around=observed_run,
    web=True,
    # The app logs each request as JSON; uvicorn's own lines go to the same JSON log.
    server_options={"access_log": False, "log_config": None},
)

"""The outermost layer of every request, in one pure ASGI middleware (no task, no body copy):

- a request id: the caller's `X-Request-ID` when short and plain, else a new one; in the
  response header, in every log line (`core.context.request_id`) and in error answers;
- a cap on the request body (`max_body_bytes`): 413 before the body is read when its length is
  announced, else as soon as it is exceeded;
- any exception no handler answered: logged with its traceback and the request id, answered
  with a 500 problem (the traceback never leaves the server).
"""

from __future__ import annotations

import logging
import random
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myapp.api.problems import problem_response
from myapp.core.context import request_id

HEADER = b"x-request-id"
# Honour a caller's id only when it is short and plain, so it is safe in logs and headers.
VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

logger = logging.getLogger(__name__)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def new_id() -> str:
    # Unique, not secret: no need for the system's random source (a syscall per request).
    return f"{random.getrandbits(128):032x}"


def incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if VALID_ID.fullmatch(value) else None
    return None


def announced_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class RequestContext:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope) or new_id()
        token = request_id.set(rid)
        header = (HEADER, rid.encode("ascii"))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            length = announced_length(scope)
            if length is not None and length > self.max_body_bytes:
                error = BodyTooLarge(self.max_body_bytes)
                response = problem_response(413, error.detail, instance=scope["path"])
                await response(scope, receive, send_with_id)
                return
            await self.app(scope, self._capped(receive), send_with_id)
        except BodyTooLarge as error:  # read by code that does not answer HTTPExceptions
            if started:
                raise
            response = problem_response(413, error.detail, instance=scope["path"])
            await response(scope, receive, send_with_id)
        except Exception:
            logger.exception(
                "unhandled error in %s %s (request id %s)", scope["method"], scope["path"], rid
            )
            if started:  # too late for an error answer: the server closes the connection
                raise
            response = problem_response(500, "internal error", instance=scope["path"])
            await response(scope, receive, send_with_id)
        finally:
            request_id.reset(token)

    def _capped(self, receive: Receive) -> Receive:
        received = 0

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        return capped

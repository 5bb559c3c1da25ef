"""The OpenAPI document tells the truth: schemathesis generates requests from it (valid and
invalid ones, then sequences of calls that follow the data between operations) and sends them to
the app served by uvicorn, against the test services. No answer may be a server error, carry a
status, content type, header or body the document does not list, accept invalid input or refuse
valid input; a 405 names exactly the methods the path serves (`Allow`).

The number of examples is bounded (`EXAMPLES` per operation) so the suite stays quick; raise it
to search harder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from myapi.core.config import Settings
from myapi.features import FEATURES
from myapi.main import create_app
from tests.test_config import example_environment

ROOT = Path(__file__).resolve().parents[2]
BUILD_DOCUMENT = """
import json, sys
from myapi.core.config import Settings
from myapi.main import create_app
print(json.dumps(create_app(Settings.model_validate(json.loads(sys.argv[1]))).openapi()))
"""
EXAMPLES = 30
FUZZING = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database written into the project
    suppress_health_check=list(HealthCheck),
)


def openapi_document() -> dict[str, Any]:
    """The document of an app built from example settings (routes need no service), in a process
    of its own: building an app here, at collection, could change what the tests see."""
    example = {name.lower(): value for name, value in example_environment().items()}
    done = subprocess.run(
        [sys.executable, "-c", BUILD_DOCUMENT, json.dumps(example)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    """The app served over HTTP by uvicorn (in a thread), lifespan included."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


@pytest.fixture
def fresh_state(request: pytest.FixtureRequest) -> Callable[[], None]:
    """Puts what the features keep (rows, cache entries) back as the test found it: each feature
    that keeps state has a `<feature>_reset` fixture, called in the features' order."""
    resets: list[Callable[[], None]] = []
    for feature in FEATURES:
        try:
            resets.append(request.getfixturevalue(f"{feature.name}_reset"))
        except pytest.FixtureLookupError:
            continue

    def reset() -> None:
        for each in resets:
            each()

    return reset


def test_sequences_of_calls_answer_as_documented(
    base_url: str, fresh_state: Callable[[], None]
) -> None:
    machine = schema.as_state_machine()
    if not machine.root_rules:
        pytest.skip("no operation's answer feeds another's input: nothing to chain")

    class Workflow(machine):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            fresh_state()

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": base_url}

    # What a sequence draws depends on what the app answered before: Hypothesis cannot replay a
    # sequence to shrink it, and sequences are drawn from a fixed seed. Each sequence starts
    # from the same state (`fresh_state`), so a sequence that begins like an earlier one gets
    # the same answers and draws the same data. A failure is reported as found.
    sequences = hypothesis_settings(
        FUZZING, stateful_step_count=6, phases=[Phase.generate], derandomize=True
    )
    Workflow.run(settings=sequences)


@schema.parametrize()
@FUZZING
def test_every_operation_answers_as_documented(case: schemathesis.Case[Any], base_url: str) -> None:
    case.call_and_validate(base_url=base_url)

"""One structured line per delivery, command and change: who, what, outcome, duration.

An operator reading CloudWatch Logs (or querying them with Logs Insights) finds each thing
Shepherd did as one JSON object: `{"event": "command", "user": "U0…", "command": "/ops status
orders", "outcome": "Said", "duration_ms": 412, "request_id": "…", …}`. In Lambda the root logger
writes Powertools Logger's JSON (the runtime layer has it); elsewhere the line reads as text with
the same fields. Outside text in a field (a command as typed) is stripped of Shepherd's marks and
capped; JSON escapes the rest.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.markup import strip_marks

log = logging.getLogger(__name__)  # not under "shepherd": chalice keeps that one at ERROR
CAP = 500  # characters of a field taken from outside
request_id: list[str] = [""]  # the current invocation's, set by the handler


def clip(text: str) -> str:
    """Outside text as a field holds it: Shepherd's marks stripped, capped."""
    return strip_marks(text)[:CAP]


def line(event: str, **fields: Any) -> None:
    """Write one journal line now."""
    shown = {k: clip(v) if isinstance(v, str) else v for k, v in fields.items() if v is not None}
    shown = {"event": event, "request_id": request_id[0] or None, **shown}
    log.info(
        "%s %s",
        event,
        " ".join(f"{k}={v}" for k, v in shown.items() if k not in ("event", "request_id")),
        extra={k: v for k, v in shown.items() if k not in RESERVED},
    )


@contextmanager
def timed(event: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """A journal line for the block: its fields (the block adds `outcome` and the like), its
    duration; an exception escaping is the outcome, and is raised on."""
    started = time.monotonic()
    found: dict[str, Any] = dict(fields)
    try:
        yield found
    except BaseException as exc:
        found.setdefault("outcome", type(exc).__name__)
        found.setdefault("error", str(exc))
        raise
    finally:
        line(event, **found, duration_ms=round((time.monotonic() - started) * 1000))


def json_logs() -> bool:
    """In Lambda (or with SHEPHERD_LOG_JSON=1): Powertools Logger's JSON on the root logger."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or os.environ.get("SHEPHERD_LOG_JSON"))


def use_json(root: logging.Logger) -> None:
    try:
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
    except ImportError:  # deployed without the layer: the lines still carry their fields
        return
    formatter = LambdaPowertoolsFormatter(
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", "shepherd")
    )
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter)


# A LogRecord's own attributes: a field so named stays in the message only.
RESERVED = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
)

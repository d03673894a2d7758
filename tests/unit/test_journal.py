"""Journal lines as Lambda writes them: Powertools Logger's JSON on the root logger."""

from __future__ import annotations

import io
import json
import logging

import pytest

from chalicelib import journal


def test_in_lambda_every_line_is_one_json_object_with_its_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shepherd-prod-api_handler")
    out = io.StringIO()
    root = logging.Logger("root-under-test")
    root.addHandler(logging.StreamHandler(out))
    assert journal.json_logs()
    journal.use_json(root)
    journal.request_id[0] = "req-9"
    captured: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = captured.append  # type: ignore[method-assign]
    journal.log.addHandler(handler)
    level = journal.log.level
    journal.log.setLevel(logging.INFO)  # setLevel, not the attribute: logging caches the check
    try:
        journal.line("command", user="U1", command="/ops status a\nb\ue000", outcome="Said")
    finally:
        journal.log.setLevel(level)
        journal.log.removeHandler(handler)
        journal.request_id[0] = ""
    [line] = captured
    root.handle(line)
    doc = json.loads(out.getvalue())
    assert (doc["event"], doc["user"], doc["outcome"]) == ("command", "U1", "Said")
    assert doc["request_id"] == "req-9" and doc["service"] == "shepherd"
    assert doc["command"] == "/ops status a\nb"  # one line, marks gone, newline escaped by JSON
    assert out.getvalue().count("\n") == 1

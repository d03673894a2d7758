from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools import moto_metrics

EVENTS = Path(__file__).parent / "events"


moto_metrics.install()  # the same answers, at a cost that follows the request


def _one_loader() -> None:
    """Every botocore session of the suite reads each service model once, not once per test."""
    import functools

    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.session.create_loader)


_one_loader()


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in the suite may reach AWS for real: fake credentials, a fixed region."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

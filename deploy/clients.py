"""The AWS clients an operator command uses: one per service from the user's session, or the
ones a test gives (moto's, or one under botocore's Stubber)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3


class Clients:
    def __init__(self, session: boto3.Session, given: Mapping[str, Any] | None = None) -> None:
        self.session = session
        self._clients = dict(given or {})

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    @property
    def region(self) -> str:
        return str(self.client("cloudformation").meta.region_name)

    @property
    def account(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

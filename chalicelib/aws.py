"""boto3 clients, built in one place and passed in; nothing here touches the network on import."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

# Short timeouts and few retries: a diagnosis must arrive while the alarm is fresh, and a source
# that does not answer becomes "could not check", not a stalled invocation.
_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=32,
)


class Aws:
    """A boto3 session and its clients, one per (service, region), shared across threads."""

    def __init__(self, session: boto3.Session | None = None, region: str | None = None) -> None:
        self.session = session or boto3.Session()
        self.region = region or self.session.region_name or "us-east-1"
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                session: Any = self.session  # typed stubs know services by literal name only
                self._clients[key] = session.client(
                    service, region_name=key[1], config=_CLIENT_CONFIG
                )
            return self._clients[key]

    def fetch_secret(self, name: str) -> str:
        """Read a secret: a Secrets Manager ARN/name, or else an SSM SecureString parameter."""
        if name.startswith("arn:aws:secretsmanager:") or name.startswith("secret:"):
            secret_id = name.removeprefix("secret:")
            value = self.client("secretsmanager").get_secret_value(SecretId=secret_id)
            return str(value["SecretString"])
        response = self.client("ssm").get_parameter(Name=name, WithDecryption=True)
        return str(response["Parameter"]["Value"])


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else the exception's type name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__

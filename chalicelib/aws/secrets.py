"""The bot token and signing secret: SSM Parameter Store or Secrets Manager, read once, never logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.aws.errors import calls


@calls("secrets")
def fetch_secret(client: Callable[[str], Any], name: str) -> str:
    """A Secrets Manager ARN or `secret:<id>`, else the name of an SSM SecureString parameter."""
    if name.startswith("arn:aws:secretsmanager:") or name.startswith("secret:"):
        value = client("secretsmanager").get_secret_value(SecretId=name.removeprefix("secret:"))
        return str(value["SecretString"])
    response = client("ssm").get_parameter(Name=name, WithDecryption=True)
    return str(response["Parameter"]["Value"])

"""The bot token and signing secret: SSM Parameter Store or Secrets Manager, read once, never logged."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.aws.errors import NotFound, calls

SSM_BATCH = 10  # GetParameters takes at most ten names


def is_secrets_manager(name: str) -> bool:
    return name.startswith("arn:aws:secretsmanager:") or name.startswith("secret:")


@calls("secrets")
def fetch_secrets(client: Callable[[str], Any], names: Iterable[str]) -> dict[str, str]:
    """Each name's value: SSM SecureString parameters in one GetParameters round trip,
    Secrets Manager entries (an ARN or `secret:<id>`) one by one."""
    wanted = list(dict.fromkeys(names))
    values: dict[str, str] = {}
    parameters = [n for n in wanted if not is_secrets_manager(n)]
    for i in range(0, len(parameters), SSM_BATCH):
        batch = parameters[i : i + SSM_BATCH]
        response = client("ssm").get_parameters(Names=batch, WithDecryption=True)
        values |= {p["Name"]: str(p["Value"]) for p in response.get("Parameters", [])}
        missing = response.get("InvalidParameters") or [n for n in batch if n not in values]
        if missing:
            raise NotFound("ssm", f"no parameter {', '.join(missing)}", "ParameterNotFound")
    for name in (n for n in wanted if is_secrets_manager(n)):
        secret = client("secretsmanager").get_secret_value(SecretId=name.removeprefix("secret:"))
        values[name] = str(secret["SecretString"])
    return values

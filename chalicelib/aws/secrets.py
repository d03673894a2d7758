"""The bot token and signing secret: SSM Parameter Store or Secrets Manager, through Powertools
Parameters, kept for `max_age` seconds and never logged.

SSM names are read together (one GetParameters with decryption); a Secrets Manager entry (an ARN
or `secret:<id>`) on its own. `refresh()` forgets what was read, for the one re-read Shepherd makes
when Slack says the token is invalid or a signature does not match (a rotated secret).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import NotFound, calls, translate

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

MAX_AGE_S = 300  # a rotated secret is picked up within this, or at once on a Slack refusal


def is_secrets_manager(name: str) -> bool:
    return name.startswith("arn:aws:secretsmanager:") or name.startswith("secret:")


class SecretStore:
    def __init__(self, client: Callable[[str], Any], max_age_s: int = MAX_AGE_S) -> None:
        self.client = client
        self.max_age_s = max_age_s
        self._providers: tuple[SSMProvider, SecretsProvider] | None = None
        self._lock = threading.Lock()

    def _both(self) -> tuple[SSMProvider, SecretsProvider]:
        with self._lock:
            if self._providers is None:
                # Imported on the first read, not in the init phase (app.py).
                from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

                self._providers = (
                    SSMProvider(boto3_client=self.client("ssm")),
                    SecretsProvider(boto3_client=self.client("secretsmanager")),
                )
            return self._providers

    @calls("secrets")
    def get(self, names: Iterable[str]) -> dict[str, str]:
        """Each name's value; NotFound names what is missing, other failures are typed."""
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        wanted = list(dict.fromkeys(names))
        ssm, secrets = self._both()
        in_ssm = [n for n in wanted if not is_secrets_manager(n)]
        values: dict[str, str] = {}
        try:
            if in_ssm:
                found = ssm.get_parameters_by_name(
                    {n: {} for n in in_ssm}, decrypt=True, max_age=self.max_age_s
                )
                values |= {name: str(value) for name, value in found.items()}
            for name in (n for n in wanted if is_secrets_manager(n)):
                values[name] = str(
                    secrets.get(name.removeprefix("secret:"), max_age=self.max_age_s)
                )
        except GetParameterError as exc:  # missing names, or Secrets Manager's failure wrapped
            cause = exc.__cause__
            if isinstance(cause, Exception):
                raise translate("secrets", cause) from exc
            raise NotFound("ssm", str(exc), "ParameterNotFound") from exc
        missing = [n for n in wanted if n not in values]
        if missing:
            raise NotFound("ssm", f"no parameter {', '.join(missing)}", "ParameterNotFound")
        return values

    def refresh(self) -> None:
        """Forget every value read: the next `get` reads AWS again."""
        with self._lock:
            if self._providers is not None:
                for provider in self._providers:
                    provider.clear_cache()  # type: ignore[no-untyped-call]

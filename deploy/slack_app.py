"""The Slack side of a deploy: the app manifest with the deployed URL, the scopes it asks for,
and the secrets Shepherd reads (`/shepherd/slack-*` in SSM Parameter Store)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.errors import BadInput

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "slack-app-manifest.yml"
CONFIG = ROOT / ".chalice" / "config.json"
PLACEHOLDER = "https://API_URL/slack/events"
SIGNING_SECRET = re.compile(r"^[0-9a-f]{32}$")


def manifest(request_url: str, source: Path = MANIFEST) -> str:
    """The app manifest with every request URL set to the deployed one (its header, which says
    how to fill it in, replaced by where it points)."""
    lines = source.read_text(encoding="utf-8").splitlines()
    body = [line for line in lines if not line.startswith("#")]
    header = f"# Shepherd's Slack app, for {request_url} (written by `make deploy`)."
    return "\n".join([header, *body]).replace(PLACEHOLDER, request_url) + "\n"


def scopes(source: Path = MANIFEST) -> list[str]:
    """The bot scopes the manifest asks for (what `auth.test` must show after install)."""
    found, inside = [], False
    for line in source.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped == "bot:":
            inside = True
            continue
        if inside:
            if not stripped.startswith("- "):
                break
            found.append(stripped[2:].split("#")[0].strip())
    return found


@dataclass(frozen=True)
class Secrets:
    token_param: str
    signing_secret_param: str

    @classmethod
    def of_stage(cls, stage: str, config: Path = CONFIG) -> Secrets:
        doc = json.loads(config.read_text(encoding="utf-8"))
        env = doc.get("stages", {}).get(stage, {}).get("environment_variables", {})
        try:
            return cls(env["SLACK_BOT_TOKEN_PARAM"], env["SLACK_SIGNING_SECRET_PARAM"])
        except KeyError:
            raise BadInput(
                f"stage {stage} names no SLACK_*_PARAM in .chalice/config.json"
            ) from None

    @property
    def names(self) -> list[str]:
        return [self.token_param, self.signing_secret_param]

    def missing(self, ssm: Any) -> list[str]:
        return list(ssm.get_parameters(Names=self.names).get("InvalidParameters", []))

    def read(self, ssm: Any) -> dict[str, str]:
        answer = ssm.get_parameters(Names=self.names, WithDecryption=True)
        return {p["Name"]: p["Value"] for p in answer.get("Parameters", [])}

    def store(self, ssm: Any, token: str, signing_secret: str) -> None:
        """Both as SecureString (KMS's default key for SSM), replacing what was there."""
        check_token(token)
        check_signing_secret(signing_secret)
        for name, value, what in (
            (self.token_param, token, "Shepherd's Slack bot token"),
            (self.signing_secret_param, signing_secret, "Shepherd's Slack signing secret"),
        ):
            ssm.put_parameter(
                Name=name, Value=value, Type="SecureString", Overwrite=True, Description=what
            )


def check_token(token: str) -> None:
    if not token.startswith("xoxb-"):
        raise BadInput(
            "the bot token starts with xoxb- (OAuth & Permissions → Bot User OAuth Token), "
            "not a user (xoxp-) or app-level (xapp-) token"
        )


def check_signing_secret(secret: str) -> None:
    if not SIGNING_SECRET.match(secret):
        raise BadInput(
            "the signing secret is 32 hexadecimal characters (Basic Information → App "
            "Credentials → Signing Secret), not the client secret or a token"
        )


def web_client(token: str, api_url: str | None = None) -> Any:
    """slack_sdk's WebClient on Slack's Web API, or on `SLACK_API_URL` (the local stand-in)."""
    from slack_sdk import WebClient

    return WebClient(token=token, timeout=10, base_url=api_url or WebClient.BASE_URL)

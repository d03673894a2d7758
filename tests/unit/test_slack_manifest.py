"""The Slack app manifest points the command and the buttons at the one endpoint the bot serves."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yml"


def test_manifest_wires_ops_and_interactivity_to_slack_events() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ops"
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"] == command["url"]


def test_manifest_asks_for_exactly_the_scopes_the_bot_uses() -> None:
    scopes = set(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "chat:write.public",
        "usergroups:read",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
    }

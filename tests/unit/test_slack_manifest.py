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
        "files:write",
        "im:write",
    }


def test_manifest_subscribes_to_the_events_the_bot_listens_to() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = manifest["settings"]["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened"]
    assert events["request_url"] == manifest["settings"]["interactivity"]["request_url"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_usage_hint_names_every_command_of_the_grammar() -> None:
    from chalicelib.ops.grammar import _PARSERS

    [command] = yaml.safe_load(MANIFEST.read_text())["features"]["slash_commands"]
    assert {w for w in _PARSERS if w not in ("diagnose", "undo")} <= set(
        command["usage_hint"].replace("|", " ").split()
    )

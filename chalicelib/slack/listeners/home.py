"""The Home tab: published afresh each time someone opens it (`app_home_opened`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient

from chalicelib.slack.listeners.answer import ack_now

if TYPE_CHECKING:
    from chalicelib.slack.listeners import Wiring


def publish(container: Wiring, client: WebClient, user: str) -> None:
    from chalicelib.markup import for_client
    from chalicelib.slack import home

    view = for_client(client, {"view": home.view(container.home_facts())})["view"]
    client.views_publish(user_id=user, view=view)


def register(app: App, container: Wiring) -> None:
    def publish_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish(container, client, str(event["user"]))

    app.event("app_home_opened")(ack=ack_now, lazy=[publish_home])

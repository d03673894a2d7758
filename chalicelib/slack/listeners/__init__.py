"""The /slack/events listeners, grouped by kind; each group has `register(app, container)`.

Ack at once, do the work in a lazy listener. Lazy functions are matched by `__name__`: each is a
named function, never a partial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from chalicelib.slack.listeners import alarm_actions, commands, ops_actions

if TYPE_CHECKING:
    from chalicelib.container import Container


def register(app: App, container: Container) -> None:
    commands.register(app, container)
    ops_actions.register(app, container)
    alarm_actions.register(app, container)

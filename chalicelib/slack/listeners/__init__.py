"""The /slack/events listeners, grouped by kind; each group has `register(app, container)`.

Ack at once, do the work in a lazy listener. Lazy functions are matched by `__name__`: each is a
named function, never a partial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from slack_bolt import App

if TYPE_CHECKING:
    from chalicelib.alarms.attention import Attention
    from chalicelib.config import Settings
    from chalicelib.ops.commands import Ops
    from chalicelib.ops.home import HomeFacts


class Wiring(Protocol):
    """What listeners need of the container: `/ops`, built when a lazy listener first uses it."""

    @property
    def ops(self) -> Ops: ...
    @property
    def attention(self) -> Attention: ...
    def home_facts(self) -> HomeFacts: ...
    @property
    def settings(self) -> Settings: ...


def register(app: App, container: Wiring) -> None:
    from chalicelib.slack.listeners import alarm_actions, commands, home, ops_actions

    commands.register(app, container)
    home.register(app, container)
    ops_actions.register(app, container)
    alarm_actions.register(app, container)

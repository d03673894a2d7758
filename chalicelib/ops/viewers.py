"""Who may see what Shepherd reads: IAM audit findings, dead-letter message bodies, log lines.

`SHEPHERD_VIEWERS` lists channels (`C…` ids or `#names`) and people (`U…` users, `S…` user
groups). The channel Shepherd posts alarms to is always a viewer channel: everyone in it sees the
alarms already. With no list, the viewers are that channel and the operators.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import markup
from chalicelib.accounts import Account
from chalicelib.ops.operators import Operators, Verdict

PEOPLE = ("U", "W", "S")  # user, enterprise user and user group ids


@dataclass(frozen=True)
class Where:
    """Where a command was typed, as the slash command says."""

    channel_id: str | None = None
    channel_name: str | None = None


class Viewers:
    def __init__(
        self,
        listed: tuple[str, ...],
        alarm_channel: str,
        operators: Operators,
        more_channels: tuple[str, ...] = (),
    ) -> None:
        self.listed_entries, self.alarm_channel, self.operators = listed, alarm_channel, operators
        self.channels = {
            alarm_channel,
            *more_channels,
            *(v for v in listed if not v.startswith(PEOPLE)),
        }
        people = tuple(v for v in listed if v.startswith(PEOPLE))
        self.listed = bool(listed)
        # The people are checked as operators are (user groups resolved and cached alike).
        self.people = (
            Operators(people, (), operators.group_members) if people or listed else operators
        )

    def for_account(self, member: Account) -> Viewers:
        """A member account's viewers: its own list when the accounts file gives one (else these),
        and its alarm channel as a viewer channel too."""
        if not member.viewers and not member.channel:
            return self
        listed = member.viewers or self.listed_entries
        more = (member.channel,) if member.channel else ()
        return Viewers(listed, self.alarm_channel, self.operators, more)

    def in_channel(self, where: Where | None) -> bool:
        """Whether `where` is a viewer channel: what is posted there, its members may see."""
        if where is None:
            return False
        names = {where.channel_id, where.channel_name, f"#{where.channel_name}"}
        return bool(self.channels & {n for n in names if n and n != "#None"})

    def check(self, user: str, where: Where | None) -> Verdict:
        if self.in_channel(where):
            return Verdict(True, "in a viewer channel")
        verdict = self.people.check(user)
        if verdict.allowed:
            return verdict
        rule = (
            "SHEPHERD_VIEWERS"
            if self.listed
            else "the viewer rule (the alarm channel and operators)"
        )
        return Verdict(False, f"{markup.user(user)} is not a viewer per {rule}")

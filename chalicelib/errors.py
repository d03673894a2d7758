"""One error hierarchy: what the user got wrong vs. what failed underneath.

Like click's exceptions, each error knows how it is shown (in Slack) and its exit code (the CLI):
a usage error becomes usage help, a refusal says why, an AWS failure names its error code.
"""

from __future__ import annotations


class ShepherdError(Exception):
    """Base of every error Shepherd raises on purpose."""

    exit_code = 1

    def shown(self) -> str:
        """The error as Slack shows it."""
        return f":x: {self}"


class BadInput(ShepherdError):
    """The input (an event, a file, a command) is malformed: report it and change nothing."""

    exit_code = 2

    def shown(self) -> str:
        return f":warning: {self}"


class UsageError(BadInput):
    """A command was typed wrong: answer with usage help."""

    usage = ""  # the grammar's usage text, attached where the command was parsed

    def shown(self) -> str:
        return f":warning: {self}" + (f"\n\n*Usage*\n{self.usage}" if self.usage else "")


class Refused(ShepherdError):
    """The request is understood but not allowed (authorisation or a guardrail)."""

    def shown(self) -> str:
        return f":no_entry: Refused: {self}"


class Drifted(Refused):
    """What a preview was based on is no longer true (it expired, or the live value changed):
    the action is not run, and a fresh preview is offered instead."""

    def shown(self) -> str:
        return f":hourglass: Not run: {self}"


class UpstreamFailure(ShepherdError):
    """AWS or Slack failed: the delivery must be retried, never silently dropped."""

    def __init__(self, service: str, message: str, code: str | None = None) -> None:
        self.service = service
        self.code = code
        super().__init__(f"{service}: {code + ': ' if code else ''}{message}")

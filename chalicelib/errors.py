"""One error hierarchy: what the user got wrong vs. what failed underneath."""

from __future__ import annotations


class ShepherdError(Exception):
    """Base of every error Shepherd raises on purpose."""


class BadInput(ShepherdError):
    """The input (an event, a file, a command) is malformed: report it and change nothing."""


class UsageError(BadInput):
    """A command was typed wrong: answer with usage help."""


class Refused(ShepherdError):
    """The request is understood but not allowed (authorisation or a guardrail)."""


class UpstreamFailure(ShepherdError):
    """AWS or Slack failed: the delivery must be retried, never silently dropped."""

    def __init__(self, service: str, message: str, code: str | None = None) -> None:
        self.service = service
        self.code = code
        super().__init__(f"{service}: {code + ': ' if code else ''}{message}")

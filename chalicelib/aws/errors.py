"""AWS failures as types, not string codes: callers catch `NotFound`, never compare codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import UpstreamFailure

P = ParamSpec("P")
R = TypeVar("R")


class AwsError(UpstreamFailure):
    """An AWS call failed; `code` is the AWS error code (or the exception's type name)."""

    def __init__(self, service: str, message: str, code: str) -> None:
        super().__init__(service, message, code)
        self.code: str = code


class NotFound(AwsError):
    """The function, alias, queue, configuration or item does not exist."""


class Throttled(AwsError):
    """AWS asked us to slow down (after botocore's own retries)."""


class AccessDenied(AwsError):
    """Shepherd's role may not make this call."""


class Invalid(AwsError):
    """AWS rejected the request's content (a payload, a parameter)."""


class ConditionFailed(AwsError):
    """A conditional write found the item not in the expected state."""


class Upstream(AwsError):
    """Any other failure: a 5xx, a timeout, a connection that broke."""


_BY_CODE: dict[str, type[AwsError]] = {
    **dict.fromkeys(
        (
            "ResourceNotFoundException",
            "ResourceNotFound",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "ProvisionedConcurrencyConfigNotFoundException",
            "NoSuchEntity",
            "ParameterNotFound",
        ),
        NotFound,
    ),
    **dict.fromkeys(
        (
            "ThrottlingException",
            "Throttling",
            "TooManyRequestsException",
            "RequestLimitExceeded",
            "ProvisionedThroughputExceededException",
        ),
        Throttled,
    ),
    **dict.fromkeys(
        ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"),
        AccessDenied,
    ),
    **dict.fromkeys(
        (
            "InvalidRequestContentException",
            "InvalidParameterValueException",
            "ValidationException",
            "RequestTooLargeException",
        ),
        Invalid,
    ),
    "ConditionalCheckFailedException": ConditionFailed,
}


def code_of(exc: BaseException) -> str:
    """The AWS error code of any exception: a typed error's, a ClientError's, else its type name."""
    if isinstance(exc, AwsError):
        return exc.code
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def translate(service: str, exc: Exception) -> AwsError:
    """A botocore exception as the typed error it means."""
    if isinstance(exc, AwsError):
        return exc
    code = code_of(exc)
    response = getattr(exc, "response", None) or {}  # a read timeout has `response = None`
    message = str(response.get("Error", {}).get("Message") or exc)
    return _BY_CODE.get(code, Upstream)(service, message, code)


def calls(service: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a method that calls AWS so that whatever it raises is a typed `AwsError`."""

    def wrap(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except (ClientError, BotoCoreError, OSError) as exc:
                raise translate(service, exc) from exc

        return call

    return wrap

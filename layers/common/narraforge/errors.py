"""The domain's errors: what went wrong, in the domain's words, with no transport in them.

Services, security and the pipeline raise these. Each edge maps them once: the API to an HTTP status and a
problem `code` (`api/resolver.py`), the stage runner to a Step Functions error name (`pipeline/handler.py`).
A new error added here without a mapping there fails `tests/unit/test_error_mappings.py`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error raised on purpose. `details` is structured: a list of field problems (the loc/msg/type
    of a 422) or a mapping of facts (a limit, its reset date). `headers` carries what only the raiser knows about
    answering it (a rate window's Retry-After, a cookie to clear); transports that have no headers ignore them."""

    def __init__(self, message: str = "", *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


# Refusals of a request: the API answers them as problems.


class BadRequest(DomainError):
    """A request that is well-formed but cannot be honoured (a stale or forged OAuth state, say)."""


class InvalidInput(DomainError):
    """Input that breaks a rule; `details` lists the fields at fault."""


class Unauthorized(DomainError):
    """No valid identity: a missing, forged or expired credential, or a wrong password."""

    def __init__(self, message: str = "Not authenticated", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    """A known identity that may not do this."""


class LimitExceeded(Forbidden):
    """The plan's or the month's limit refuses it; `details` names the limit and when it resets."""


class NotFound(DomainError):
    """No such thing, or not the caller's (the two are not told apart)."""


class Conflict(DomainError):
    """The thing's current state forbids it (a finished job cancelled, an email already taken)."""


class PreconditionFailed(DomainError):
    """A conditional write whose condition is false: the client's copy is stale (If-Match names an older
    version) or the thing exists where the client expected none (If-None-Match: *)."""


class PreconditionRequired(DomainError):
    """An update sent without the version it was based on: accepting it could overwrite a newer one unseen."""


class UnsupportedMediaType(DomainError):
    """A body in a format this operation does not read (a PATCH that is not a JSON Merge Patch)."""


class RateLimited(DomainError):
    """Too many requests in the window."""


class ServiceUnavailable(DomainError):
    """Something this deployment needs is missing or down (a setting, the state machine)."""


class BadGateway(DomainError):
    """An upstream service (an OAuth provider) failed or answered nonsense: not the caller's fault."""


# Ends of a job: the stage runner hands them to Step Functions, which catches or records them.


class JobStopped(DomainError):
    """A job cannot go on. Never answered to a client: raised inside a stage, it ends the execution."""


class JobCancelled(JobStopped):
    """The job is no longer running (cancelled, or gone) and its work must not be written."""


class BudgetExceeded(JobStopped):
    """The job's cost cap (or the month's remaining budget) would be passed by the next model call."""


class ValidationFailed(JobStopped):
    """The job's own material is unusable (a plan that does not add up, a brief the model refused, a bad event):
    retrying the same input cannot help."""

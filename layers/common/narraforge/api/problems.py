"""RFC 9457 problem details, the one shape of every error the API answers.

`type`, `title`, `status`, `detail` (written for a person), `instance` (the request id), and the extensions
`code` (machine-readable) and `errors` (the field-level problems of a 422). Other details of an error (a limit,
its reset date) are extension members beside them. Clients of FastAPI-style APIs read `detail`: one reason
for the standard shape rather than an envelope of our own.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.encoders import jsonable_encoder

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Members of the problem object itself: extension members taken from an error's details never replace them.
PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "code", "errors"})


def problem_body(status_code: int, code: str, detail: str, instance: str | None, details: Any = None) -> dict[str, Any]:
    """The problem object. `type` is about:blank (the status says what kind of problem it is), so `title` is
    the status's phrase (RFC 9457 §4.2.1); a list of details is the field-level `errors` extension, a mapping
    is spread as extension members."""
    body: dict[str, Any] = {"type": "about:blank", "title": _title(status_code), "status": status_code,
                            "detail": detail, "instance": instance, "code": code}
    details = jsonable_encoder(details)
    if isinstance(details, list):
        body["errors"] = details
    elif isinstance(details, dict):
        body.update({key: value for key, value in details.items() if key not in PROBLEM_MEMBERS})
    return body


# RFC 9110's names where Python 3.12's HTTPStatus still has the older RFC 7231 phrases.
RFC9110_PHRASES = {413: "Content Too Large", 422: "Unprocessable Content"}


def _title(status_code: int) -> str:
    if status_code in RFC9110_PHRASES:
        return RFC9110_PHRASES[status_code]
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"

"""WebSocket connections and subscriptions (items of the table; README, "Progress over WebSocket"): who may
connect, and which jobs a connection may follow — only its user's own."""

from __future__ import annotations

import time
from datetime import timedelta

from narraforge.data import connections
from narraforge.data import jobs as jobs_repo
from narraforge.domain.job_state import to_status
from narraforge.errors import LimitExceeded, NotFound, Unauthorized
from narraforge.observability import logger
from narraforge.schemas.realtime import SubscribedMessage
from narraforge.security import tokens
from narraforge.services import identity

# API Gateway closes a WebSocket connection after two hours at most; the items outlive it a little, so a lost
# `$disconnect` never leaves them for good.
CONNECTION_TTL = timedelta(hours=2, minutes=5)
MAX_JOBS_PER_CONNECTION = 20


def connect(connection_id: str, access_token: str | None) -> str:
    """Saves the connection if the access token is valid and its session alive (401 otherwise); the user id."""
    if not access_token:
        raise Unauthorized("Not authenticated: pass the access token as ?token= or a Sec-WebSocket-Protocol")
    claims = tokens.decode_access_token(access_token)
    current = identity.authenticate(access_token)
    connections.save(connection_id, current.id, token_expires_at=claims.expires_at, ttl=CONNECTION_TTL)
    logger.info("connected", extra={"connection_id": connection_id, "user_id": current.id})
    return current.id


def subscribe(connection_id: str, job_id: str) -> SubscribedMessage:
    """Follows one of the connection's user's jobs; another user's job is not found (404), as over HTTP."""
    connection = connections.find(connection_id)
    if connection is None:
        raise Unauthorized("Connection is not authenticated; reconnect")
    if connection.token_expires_at < time.time():
        raise Unauthorized("Access token expired; reconnect with a new one")
    # Read here, not through services.jobs: the function's cold start stays free of the pipeline's estimate.
    job = jobs_repo.find(connection.user_id, job_id, consistent=True)
    if job is None:
        raise NotFound("Job not found")
    if not connections.subscribe(connection, job_id, max_jobs=MAX_JOBS_PER_CONNECTION):
        raise LimitExceeded(f"A connection follows at most {MAX_JOBS_PER_CONNECTION} jobs")
    jobs_repo.refresh(job)  # read after subscribing: every later change is pushed
    logger.info("subscribed", extra={"connection_id": connection_id, "job_id": job_id})
    return SubscribedMessage(job_id=job_id, status=to_status(job))

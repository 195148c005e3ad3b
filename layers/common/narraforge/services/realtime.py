"""WebSocket connections and subscriptions (DESIGN §5 single table): who may connect, and which jobs a
connection may follow — only its user's own."""

from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import size

from narraforge.data.models import ConnectionItem, JobItem, SubscriptionItem
from narraforge.data.transactions import Transaction
from narraforge.domain.errors import LimitExceeded, NotFound, Unauthorized
from narraforge.domain.job_state import to_status
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
    ConnectionItem(*ConnectionItem.key(connection_id), connection_id=connection_id, user_id=current.id,
                   token_expires_at=claims.expires_at, ttl=CONNECTION_TTL).save()
    logger.info("connected", extra={"connection_id": connection_id, "user_id": current.id})
    return current.id


def subscribe(connection_id: str, job_id: str) -> SubscribedMessage:
    """Follows one of the connection's user's jobs; another user's job is not found (404), as over HTTP."""
    try:
        connection = ConnectionItem.get(*ConnectionItem.key(connection_id), consistent_read=True)
    except DoesNotExist as exc:
        raise Unauthorized("Connection is not authenticated; reconnect") from exc
    if connection.token_expires_at < time.time():
        raise Unauthorized("Access token expired; reconnect with a new one")
    try:  # read here, not through services.jobs: the function's cold start stays free of the pipeline's estimate
        job = JobItem.get(*JobItem.key(connection.user_id, job_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound("Job not found") from exc
    subscription = SubscriptionItem(*SubscriptionItem.key(job_id, connection_id), job_id=job_id,
                                    connection_id=connection_id, user_id=connection.user_id, ttl=connection.ttl)
    room = ConnectionItem.jobs.does_not_exist() | (size(ConnectionItem.jobs) < MAX_JOBS_PER_CONNECTION) \
        | ConnectionItem.jobs.contains(job_id)
    tx = Transaction()
    try:
        with tx:
            tx.update("connection", connection, actions=[ConnectionItem.jobs.add({job_id})],
                      condition=ConnectionItem.pk.exists() & room)
            tx.save("subscription", subscription)
    except TransactWriteError as exc:
        if "connection" in tx.failed(exc):
            raise LimitExceeded(f"A connection follows at most {MAX_JOBS_PER_CONNECTION} jobs") from exc
        raise
    job.refresh(consistent_read=True)  # read after subscribing: every later change is pushed
    logger.info("subscribed", extra={"connection_id": connection_id, "job_id": job_id})
    return SubscribedMessage(job_id=job_id, status=to_status(job))

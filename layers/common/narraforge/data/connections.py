"""WebSocket connections (CONN#id / CONN) and their subscriptions, kept in the followed job's partition
(JOBSUBS#jid / CONN#id) so a job's subscribers are one Query. Both expire by TTL with the connection."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import size

from narraforge.data import keys
from narraforge.data.models import ConnectionItem, SubscriptionItem
from narraforge.data.transactions import Transaction

Connection = ConnectionItem  # the records this repository hands out
Subscription = SubscriptionItem


def save(connection_id: str, user_id: str, *, token_expires_at: int, ttl: timedelta | datetime) -> None:
    ConnectionItem(*ConnectionItem.key(connection_id), connection_id=connection_id, user_id=user_id,
                   token_expires_at=token_expires_at, ttl=ttl).save()


def find(connection_id: str) -> ConnectionItem | None:
    return ConnectionItem.find(*ConnectionItem.key(connection_id), consistent_read=True)


def subscribe(connection: ConnectionItem, job_id: str, *, max_jobs: int) -> bool:
    """Adds the job to the connection's set and saves the subscription, in one transaction; False (nothing
    written) if the connection is gone or already follows `max_jobs` other jobs."""
    subscription = SubscriptionItem(*SubscriptionItem.key(job_id, connection.connection_id), job_id=job_id,
                                    connection_id=connection.connection_id, user_id=connection.user_id,
                                    ttl=connection.ttl)
    room = ConnectionItem.jobs.does_not_exist() | (size(ConnectionItem.jobs) < max_jobs) \
        | ConnectionItem.jobs.contains(job_id)
    tx = Transaction()
    try:
        with tx:
            tx.update("connection", connection, actions=[ConnectionItem.jobs.add({job_id})],
                      condition=ConnectionItem.pk.exists() & room)
            tx.save("subscription", subscription)
    except TransactWriteError as exc:
        if "connection" in tx.failed(exc):
            return False
        raise
    return True


def subscribers(job_id: str, *, limit: int) -> list[SubscriptionItem]:
    return list(SubscriptionItem.query(keys.job_subscribers_pk(job_id), limit=limit))


def delete_with_subscriptions(connection_id: str, *, also_job: str | None = None) -> None:
    """The connection and every subscription it holds (and its subscription to `also_job`, which the
    connection may no longer list)."""
    jobs = {also_job} if also_job else set()
    connection = find(connection_id)
    if connection is not None:
        jobs |= set(connection.jobs or ())
    for job_id in jobs:
        SubscriptionItem(*SubscriptionItem.key(job_id, connection_id)).delete()
    if connection is not None:
        connection.delete()

"""Key patterns of the single table (ARCHITECTURE.md, "Storage"). Every pk/sk string is built here and nowhere else."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from ulid import ULID


def new_id() -> str:
    """ULIDs sort by creation time, so sort keys list newest first with a reverse query."""
    return str(ULID())


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


PROFILE_SK = "PROFILE"


def email_pk(email: str) -> str:
    return f"EMAIL#{email.strip().lower()}"


EMAIL_SK = "EMAIL"

PROJECT_PREFIX = "PROJECT#"


def project_sk(project_id: str) -> str:
    return f"{PROJECT_PREFIX}{project_id}"


def project_gsi1pk(project_id: str) -> str:
    return f"{PROJECT_PREFIX}{project_id}"


JOB_PREFIX = "JOB#"


def job_sk(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}"


def job_pk(job_id: str) -> str:
    """Partition of a job's checkpoints and events."""
    return f"{JOB_PREFIX}{job_id}"


def job_status_gsi2pk(user_id: str, status: str) -> str:
    return f"USER#{user_id}#JOB#{status}"


STAGE_PREFIX = "STAGE#"


def stage_sk(stage_number: int) -> str:
    return f"{STAGE_PREFIX}{stage_number:02d}"


def segment_prefix(stage_number: int) -> str:
    """Begins the sort key of every segment checkpoint of one Map stage."""
    return f"SEG#{stage_number:02d}#"


def segment_sk(stage_number: int, index: int) -> str:
    return f"{segment_prefix(stage_number)}{index:04d}"


NARR_PREFIX = "NARR#"


def narrative_sk(narrative_id: str) -> str:
    return f"{NARR_PREFIX}{narrative_id}"


def narrative_pk(narrative_id: str) -> str:
    """Partition of a narrative's versions."""
    return f"{NARR_PREFIX}{narrative_id}"


def narrative_genre_gsi2pk(user_id: str, genre: str) -> str:
    return f"USER#{user_id}#NARR#{genre}"


def version_sk(number: int) -> str:
    return f"VER#{number:06d}"


SESSION_PREFIX = "SESSION#"


def session_sk(family: str) -> str:
    return f"{SESSION_PREFIX}{family}"


def refresh_token_pk(token_hash: str) -> str:
    return f"RT#{token_hash}"


REFRESH_TOKEN_SK = "RT"


def user_tokens_gsi1pk(user_id: str) -> str:
    """GSI1 partition listing a user's refresh tokens (they live in their own RT# partitions)."""
    return f"USER#{user_id}#RT"


def oauth_identity_pk(provider: str, subject: str) -> str:
    """One provider account (its stable subject id), unique across users."""
    return f"OAUTH#{provider}#{subject}"


OAUTH_IDENTITY_SK = "IDENTITY"


def oauth_link_sk(provider: str, subject: str) -> str:
    """The user-partition copy of a link, so deleting a user's partition finds its identities."""
    return f"OAUTH#{provider}#{subject}"


def oauth_state_pk(state_hash: str) -> str:
    return f"OAUTHSTATE#{state_hash}"


OAUTH_STATE_SK = "STATE"


def month_key(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).strftime("%Y-%m")


USAGE_PREFIX = "USAGE#"


def usage_sk(month: str) -> str:
    return f"{USAGE_PREFIX}{month}"


def bill_sk(stage_number: int) -> str:
    """One stage's bill, in its job's partition (JOB#id)."""
    return f"BILL#{stage_number:02d}"


def usage_log_pk(user_id: str, month: str) -> str:
    return f"USAGELOG#{user_id}#{month}"


def idempotency_sk(key: str) -> str:
    return f"IDEMP#{key}"


def deleted_usage_pk(email: str) -> str:
    """A deleted account's usage of the month, keyed by a hash of its email so it holds no personal data."""
    return f"DELETED#{hashlib.sha256(email.strip().lower().encode()).hexdigest()}"


def rate_pk(subject: str, window: int) -> str:
    return f"RATE#{subject}#{window}"


RATE_SK = "RATE"

CONNECTION_SK = "CONN"


def connection_pk(connection_id: str) -> str:
    """An open WebSocket connection (API Gateway's connection id)."""
    return f"CONN#{connection_id}"


def job_subscribers_pk(job_id: str) -> str:
    """Partition of a job's WebSocket subscribers: the pipeline finds them all with one Query."""
    return f"JOBSUBS#{job_id}"


def subscription_sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"

def world_pk(project_id: str) -> str:
    """Partition of a project's world: its head (WORLD) and one item per version (WORLD#V000001...)."""
    return f"{PROJECT_PREFIX}{project_id}"


WORLD_SK = "WORLD"
WORLD_VERSION_PREFIX = "WORLD#V"


def world_version_sk(number: int) -> str:
    return f"{WORLD_VERSION_PREFIX}{number:06d}"


def world_update_sk(job_id: str) -> str:
    """In the world's partition: a job's story merged into it (pipeline/world_update.py)."""
    return f"WORLD#JOB#{job_id}"


STATS_PK = "STATS"
STATS_SK = "GLOBAL"

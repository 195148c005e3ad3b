"""Entities of the single table (ARCHITECTURE.md, "Storage"). Keys come from `keys`; nothing here knows HTTP."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from narraforge.data import keys
from narraforge.data.base import BaseItem, utcnow


class UserItem(BaseItem, discriminator="user"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    full_name = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    subscription_tier = UnicodeAttribute(default="FREE")
    monthly_cost_limit_usd = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.PROFILE_SK


class EmailMarkerItem(BaseItem, discriminator="email"):
    """Holds an email so a transaction can make it unique across users."""

    user_id = UnicodeAttribute()

    @classmethod
    def key(cls, email: str) -> tuple[str, str]:
        return keys.email_pk(email), keys.EMAIL_SK


class ProjectItem(BaseItem, discriminator="project"):
    project_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    world_id = UnicodeAttribute(null=True)
    default_genre = UnicodeAttribute(null=True)
    default_production_type = UnicodeAttribute(null=True)
    narrative_count = NumberAttribute(default=0)
    total_word_count = NumberAttribute(default=0)
    total_cost_usd = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, project_id: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.project_sk(project_id)


class SessionItem(BaseItem, discriminator="session"):
    """A refresh-token family: one login. Revoking it ends every token it ever issued."""

    family = UnicodeAttribute()
    user_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, family: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.session_sk(family)


class RefreshTokenItem(BaseItem, discriminator="refresh_token"):
    """One refresh token, stored by its SHA-256. `used` marks a rotated token: seeing it again is reuse."""

    user_id = UnicodeAttribute()
    family = UnicodeAttribute()
    used = BooleanAttribute(default=False)
    expires_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, token_hash: str) -> tuple[str, str]:
        return keys.refresh_token_pk(token_hash), keys.REFRESH_TOKEN_SK


class OAuthIdentityItem(BaseItem, discriminator="oauth_identity"):
    """A provider account linked to a user; its key makes one provider account belong to one user."""

    user_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    subject = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, provider: str, subject: str) -> tuple[str, str]:
        return keys.oauth_identity_pk(provider, subject), keys.OAUTH_IDENTITY_SK


class OAuthLinkItem(BaseItem, discriminator="oauth_link"):
    """The same link kept in the user's partition: account deletion finds (and removes) identities here."""

    provider = UnicodeAttribute()
    subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, provider: str, subject: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.oauth_link_sk(provider, subject)


class OAuthStateItem(BaseItem, discriminator="oauth_state"):
    """One pending authorization (keyed by the state's SHA-256): single use, 10 minutes, with its PKCE
    verifier, so the callback can only complete a flow this server started; `browser_hash` (SHA-256 of the
    starting browser's cookie) so only that browser can complete it; `link_user_id` when a signed-in user
    started it to link the provider account to theirs."""

    provider = UnicodeAttribute()
    code_verifier = UnicodeAttribute()
    redirect_uri = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    browser_hash = UnicodeAttribute()
    link_user_id = UnicodeAttribute(null=True)

    @classmethod
    def key(cls, state_hash: str) -> tuple[str, str]:
        return keys.oauth_state_pk(state_hash), keys.OAUTH_STATE_SK


class UsageItem(BaseItem, discriminator="usage"):
    """Monthly usage counter: changed only by conditional ADDs (quota reservations and refunds)."""

    generations_used = NumberAttribute(default=0)
    cost_used_usd = NumberAttribute(default=0)

    @classmethod
    def key(cls, user_id: str, month: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.usage_sk(month)


class DeletedUsageItem(BaseItem, discriminator="deleted_usage"):
    """What a deleted account had used this month: registering the same email again starts from it, so
    delete-and-re-register does not reset the monthly limit. Expires by TTL after the month."""

    generations_used = NumberAttribute(default=0)
    cost_used_usd = NumberAttribute(default=0)

    @classmethod
    def key(cls, email: str, month: str) -> tuple[str, str]:
        return keys.deleted_usage_pk(email), keys.usage_sk(month)


class StatsItem(BaseItem, discriminator="stats"):
    """Platform counters for /health/metrics, kept with atomic ADDs next to the writes they count."""

    users = NumberAttribute(default=0)
    projects = NumberAttribute(default=0)
    narratives = NumberAttribute(default=0)
    words = NumberAttribute(default=0)
    tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    jobs_created = NumberAttribute(default=0)
    jobs_completed = NumberAttribute(default=0)
    jobs_failed = NumberAttribute(default=0)
    jobs_cancelled = NumberAttribute(default=0)

    @classmethod
    def key(cls) -> tuple[str, str]:
        return keys.STATS_PK, keys.STATS_SK


class JobItem(BaseItem, discriminator="job"):
    """The small job head: everything /status and lists need, nothing large (brief is small)."""

    job_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    status = UnicodeAttribute()
    brief = JSONAttribute()
    current_stage = UnicodeAttribute(null=True)
    completed_stages = ListAttribute(of=UnicodeAttribute, default=list)
    progress_percentage = NumberAttribute(default=0)
    segments_total = NumberAttribute(null=True)  # planned segments, once segment planning is done
    segments_drafted = NumberAttribute(default=0)  # segments of segment_generation checkpointed so far
    estimated_cost_usd = NumberAttribute(default=0)
    # What this job may spend: the deployment's per-job cap, or less when the user's monthly cost cap
    # leaves less room (set when the job is reserved or resumed; the runner stops before a call past it).
    cost_cap_usd = NumberAttribute(null=True)
    actual_cost_usd = NumberAttribute(default=0)
    # Calls to a model with no known price: they count 0 in actual_cost_usd, which is then shown as unknown.
    unpriced_calls = NumberAttribute(default=0)
    # False when the estimate left out models with no known price (it is then shown as unknown).
    estimate_known = BooleanAttribute(default=True)
    tokens_used = NumberAttribute(default=0)
    error_message = UnicodeAttribute(null=True)
    failed_stage = UnicodeAttribute(null=True)
    retry_count = NumberAttribute(default=0)
    execution_arn = UnicodeAttribute(null=True)
    narrative_id = UnicodeAttribute(null=True)
    usage_month = UnicodeAttribute()
    quota_held = BooleanAttribute(default=True)
    llm_calls = NumberAttribute(default=0)  # billed model calls
    # Set by the first billed drafting call: from then on the job keeps its generation, whatever its end.
    drafting_billed = BooleanAttribute(null=True)
    provider = UnicodeAttribute(null=True)
    # Regeneration: the narrative and version this job will add, and what it was asked to change.
    target_narrative_id = UnicodeAttribute(null=True)
    target_version = NumberAttribute(null=True)
    parent_version = NumberAttribute(null=True)
    instructions = UnicodeAttribute(null=True)
    source_job_id = UnicodeAttribute(null=True)
    # The project's world version this job reads, pinned by its first Prepare (0: the project had no world).
    world_version = NumberAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, job_id: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.job_sk(job_id)


class CheckpointItem(BaseItem, discriminator="checkpoint"):
    """A completed stage (STAGE#nn) or Map segment (SEG#nn#idx): its S3 output and what it cost."""

    job_id = UnicodeAttribute()
    stage = UnicodeAttribute()
    segment = NumberAttribute(null=True)
    s3_key = UnicodeAttribute()
    prompt_tokens = NumberAttribute(default=0)
    completion_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    llm_calls = NumberAttribute(default=0)
    duration_seconds = NumberAttribute(default=0)
    completed_at = UTCDateTimeAttribute(default=utcnow)


class StageBillItem(BaseItem, discriminator="stage_bill"):
    """What one stage of a job was billed (JOB#id / BILL#nn): every paid call, added as it happens,
    whether it ran in the stage, in one of its Map segments, or in an attempt that failed or was cancelled."""

    job_id = UnicodeAttribute()
    stage = UnicodeAttribute()
    llm_calls = NumberAttribute(default=0)
    prompt_tokens = NumberAttribute(default=0)
    completion_tokens = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)

    @classmethod
    def key(cls, job_id: str, stage_number: int) -> tuple[str, str]:
        return keys.job_pk(job_id), keys.bill_sk(stage_number)


class IdempotencyItem(BaseItem, discriminator="idempotency"):
    """Remembers which job an Idempotency-Key created (24 h), and for which request body."""

    body_hash = UnicodeAttribute()
    job_id = UnicodeAttribute()

    @classmethod
    def key(cls, user_id: str, idempotency_key: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.idempotency_sk(idempotency_key)


class NarrativeItem(BaseItem, discriminator="narrative"):
    narrative_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    job_id = UnicodeAttribute()
    title = UnicodeAttribute()
    title_by_user = BooleanAttribute(default=False)  # renamed by its writer: new versions keep the title
    production_type = UnicodeAttribute()
    genre = UnicodeAttribute()
    word_count = NumberAttribute(default=0)
    overall_quality_score = NumberAttribute(null=True)
    generation_cost_usd = NumberAttribute(default=0)
    unpriced_calls = NumberAttribute(default=0)  # calls of its versions whose price is unknown
    tokens_used = NumberAttribute(default=0)
    version = NumberAttribute(default=1)  # the current version
    version_counter = NumberAttribute(default=1)  # the highest version number handed out
    view_count = NumberAttribute(default=0)
    download_count = NumberAttribute(default=0)
    exported_formats = ListAttribute(of=UnicodeAttribute, default=list)
    parent_narrative_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, user_id: str, narrative_id: str) -> tuple[str, str]:
        return keys.user_pk(user_id), keys.narrative_sk(narrative_id)


class NarrativeVersionItem(BaseItem, discriminator="narrative_version"):
    narrative_id = UnicodeAttribute()
    number = NumberAttribute()
    job_id = UnicodeAttribute()
    text_key = UnicodeAttribute()
    metadata_key = UnicodeAttribute()
    word_count = NumberAttribute(default=0)
    quality_metrics = JSONAttribute(default=dict)
    parent_version = NumberAttribute(null=True)
    instructions = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, narrative_id: str, number: int) -> tuple[str, str]:
        return keys.narrative_pk(narrative_id), keys.version_sk(number)


class UsageLogItem(BaseItem, discriminator="usage_log"):
    """One generation's bill, whatever its end: tokens and cost per stage."""

    job_id = UnicodeAttribute()
    narrative_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    llm_calls = NumberAttribute(default=0)
    unpriced_calls = NumberAttribute(default=0)
    tokens_used = NumberAttribute(default=0)
    cost_usd = NumberAttribute(default=0)
    stages = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute(default=utcnow)


class ConnectionItem(BaseItem, discriminator="connection"):
    """An open WebSocket connection, saved by `$connect` once its access token checked out: who it is and the
    jobs it subscribed to (so `$disconnect` removes those subscriptions). Expires by TTL after API Gateway's
    two-hour connection limit, whether or not `$disconnect` ever arrived."""

    connection_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    token_expires_at = NumberAttribute()  # the access token's `exp`: a later subscribe is refused
    jobs = UnicodeSetAttribute(null=True)
    connected_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, connection_id: str) -> tuple[str, str]:
        return keys.connection_pk(connection_id), keys.CONNECTION_SK


class SubscriptionItem(BaseItem, discriminator="subscription"):
    """One connection following one job (JOBSUBS#job / CONN#id), with the connection's TTL."""

    job_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    user_id = UnicodeAttribute()

    @classmethod
    def key(cls, job_id: str, connection_id: str) -> tuple[str, str]:
        return keys.job_subscribers_pk(job_id), keys.subscription_sk(connection_id)


class RateWindowItem(BaseItem, discriminator="rate_window"):
    """Requests counted in one fixed window for one subject; expires by TTL after the window."""

    count = NumberAttribute(default=0)


class WorldItem(BaseItem, discriminator="world"):
    """A project's world head: the pointer to its current version (the JSON document lives in S3). Moved
    only by a conditional write on `version`, so two writers based on the same version cannot both land."""

    project_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    version = NumberAttribute()
    s3_key = UnicodeAttribute()
    s3_version_id = UnicodeAttribute(null=True)  # the S3 object version read back (null only if unversioned)
    entry_counts = JSONAttribute(default=dict)
    size_bytes = NumberAttribute(default=0)
    updated_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, project_id: str) -> tuple[str, str]:
        return keys.world_pk(project_id), keys.WORLD_SK


class WorldVersionItem(BaseItem, discriminator="world_version"):
    """One version of a project's world, written in the same transaction as the head that points at it."""

    project_id = UnicodeAttribute()
    number = NumberAttribute()
    s3_key = UnicodeAttribute()
    s3_version_id = UnicodeAttribute(null=True)
    entry_counts = JSONAttribute(default=dict)
    size_bytes = NumberAttribute(default=0)
    updated_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, project_id: str, number: int) -> tuple[str, str]:
        return keys.world_pk(project_id), keys.world_version_sk(number)


class WorldUpdateItem(BaseItem, discriminator="world_update"):
    """A job's world update done (PROJECT#id / WORLD#JOB#<job id>), written in the transaction that moves the
    world's head to the version it made: a retried or resumed job finds it and never applies its story twice.
    It lives and goes with the world.
    `outcome` is what the narrative reports (its world version, what changed, the conflicts with locked
    entries), kept so a retry can report it again."""

    job_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    narrative_id = UnicodeAttribute()
    narrative_version = NumberAttribute()
    world_version = NumberAttribute(null=True)
    outcome = JSONAttribute(default=dict)
    completed_at = UTCDateTimeAttribute(default=utcnow)

    @classmethod
    def key(cls, project_id: str, job_id: str) -> tuple[str, str]:
        return keys.world_pk(project_id), keys.world_update_sk(job_id)

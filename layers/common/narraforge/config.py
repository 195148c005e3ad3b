"""Settings read lazily from the environment, so importing any function never needs AWS or env vars.

A plain pydantic model validated from `os.environ` (each field's alias is its variable): pydantic-settings
did the same with ~10 ms more of import in every cold start, and nothing here needs its other sources.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    environment: str = Field("local", alias="NARRAFORGE_ENV")
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    table_name: str = Field("narraforge", alias="TABLE_NAME")
    bucket_name: str = Field("narraforge-local", alias="BUCKET_NAME")
    state_machine_arn: str = Field("", alias="STATE_MACHINE_ARN")
    # The WebSocket API's management endpoint (https://{api-id}.execute-api.{region}.amazonaws.com/{stage}), where
    # progress is posted to subscribers; empty: nobody to push to (pushing is a no-op).
    websocket_management_url: str = Field("", alias="WEBSOCKET_MANAGEMENT_URL")

    # Secrets: a value from the environment wins; otherwise the SSM parameter is read (cached).
    jwt_secret: SecretStr | None = Field(None, alias="JWT_SECRET")
    jwt_secret_param: str | None = Field(None, alias="JWT_SECRET_PARAM")
    jwt_issuer: str = Field("narraforge", alias="JWT_ISSUER")
    jwt_audience: str = Field("narraforge-api", alias="JWT_AUDIENCE")
    access_token_ttl_seconds: int = Field(1800, alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_days: int = Field(7, alias="REFRESH_TOKEN_TTL_DAYS")
    # Argon2id cost (OWASP Password Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane); tests set a low cost.
    argon2_time_cost: int = Field(2, ge=1, le=10, alias="ARGON2_TIME_COST")
    argon2_memory_kib: int = Field(19_456, ge=8, le=1_048_576, alias="ARGON2_MEMORY_KIB")
    argon2_parallelism: int = Field(1, ge=1, le=8, alias="ARGON2_PARALLELISM")

    cors_origins: list[str] = Field(default_factory=list, alias="CORS_ORIGINS")
    max_body_bytes: int = Field(1_048_576, alias="MAX_BODY_BYTES")
    default_page_size: int = Field(20, alias="DEFAULT_PAGE_SIZE")

    # LLM: with neither a key nor a base URL, the offline engine writes the narrative.
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_api_key_param: str | None = Field(None, alias="OPENAI_API_KEY_PARAM")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    # Current non-reasoning models: they take temperature, and their completion tokens are all text (a reasoning
    # model's hidden tokens count against the same cap); prices in llm/pricing.py.
    planning_model: str = Field("gpt-4.1-mini", alias="NARRAFORGE_PLANNING_MODEL")
    prose_model: str = Field("gpt-4.1", alias="NARRAFORGE_PROSE_MODEL")
    judging_model: str = Field("gpt-4.1-mini", alias="NARRAFORGE_JUDGING_MODEL")
    # Per-stage overrides, JSON: {"segment_generation": "gpt-4.1"}; a stage not named uses its role's model.
    stage_models: dict[str, str] = Field(default_factory=dict, alias="NARRAFORGE_STAGE_MODELS")
    # USD per 1M input/output tokens of models the price table does not know, JSON:
    # {"SmolLM2-135M-Instruct": [0, 0]} for a self-hosted model (no charge per token).
    model_prices: dict[str, tuple[float, float]] = Field(default_factory=dict, alias="NARRAFORGE_MODEL_PRICES")
    llm_timeout_seconds: float = Field(120.0, alias="LLM_TIMEOUT_SECONDS")
    job_cost_cap_usd: float = Field(25.0, alias="JOB_COST_CAP_USD")

    # Fixed-window rate limits per minute (README, "Account, usage and limits"); API Gateway stage throttling
    # applies on top.
    rate_limit_auth_per_minute: int = Field(10, ge=1, alias="RATE_LIMIT_AUTH_PER_MINUTE")
    rate_limit_generation_per_minute: int = Field(10, ge=1, alias="RATE_LIMIT_GENERATION_PER_MINUTE")
    rate_limit_default_per_minute: int = Field(120, ge=1, alias="RATE_LIMIT_DEFAULT_PER_MINUTE")
    # Per client IP whatever the email: password spraying across accounts, and mass sign-ups.
    rate_limit_login_per_ip_per_minute: int = Field(30, ge=1, alias="RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE")
    rate_limit_register_per_ip_per_hour: int = Field(20, ge=1, alias="RATE_LIMIT_REGISTER_PER_IP_PER_HOUR")

    # OAuth (README, "OAuth"). A provider is usable once its client id, its secret (value or SSM parameter)
    # and the redirect base are set; the endpoint defaults are the real providers'.
    oauth_redirect_base_url: str | None = Field(None, alias="OAUTH_REDIRECT_BASE_URL")
    # The redirect URI sent to providers, with `{provider}` in it (e.g. the Studio's callback page,
    # https://studio.example.com/signin/callback/{provider}); unset: the API's own callback route under
    # OAUTH_REDIRECT_BASE_URL.
    oauth_callback_url: str | None = Field(None, alias="OAUTH_CALLBACK_URL")
    oauth_state_ttl_seconds: int = Field(600, ge=60, le=3600, alias="OAUTH_STATE_TTL_SECONDS")
    oauth_http_timeout_seconds: float = Field(10.0, gt=0, alias="OAUTH_HTTP_TIMEOUT_SECONDS")
    oauth_google_client_id: str | None = Field(None, alias="OAUTH_GOOGLE_CLIENT_ID")
    oauth_google_client_secret: SecretStr | None = Field(None, alias="OAUTH_GOOGLE_CLIENT_SECRET")
    oauth_google_client_secret_param: str | None = Field(None, alias="OAUTH_GOOGLE_CLIENT_SECRET_PARAM")
    oauth_google_authorize_url: str = Field("https://accounts.google.com/o/oauth2/v2/auth",
                                            alias="OAUTH_GOOGLE_AUTHORIZE_URL")
    oauth_google_token_url: str = Field("https://oauth2.googleapis.com/token", alias="OAUTH_GOOGLE_TOKEN_URL")
    oauth_google_userinfo_url: str = Field("https://openidconnect.googleapis.com/v1/userinfo",
                                           alias="OAUTH_GOOGLE_USERINFO_URL")
    oauth_github_client_id: str | None = Field(None, alias="OAUTH_GITHUB_CLIENT_ID")
    oauth_github_client_secret: SecretStr | None = Field(None, alias="OAUTH_GITHUB_CLIENT_SECRET")
    oauth_github_client_secret_param: str | None = Field(None, alias="OAUTH_GITHUB_CLIENT_SECRET_PARAM")
    oauth_github_authorize_url: str = Field("https://github.com/login/oauth/authorize",
                                            alias="OAUTH_GITHUB_AUTHORIZE_URL")
    oauth_github_token_url: str = Field("https://github.com/login/oauth/access_token",
                                        alias="OAUTH_GITHUB_TOKEN_URL")
    oauth_github_userinfo_url: str = Field("https://api.github.com/user", alias="OAUTH_GITHUB_USERINFO_URL")
    oauth_github_emails_url: str = Field("https://api.github.com/user/emails", alias="OAUTH_GITHUB_EMAILS_URL")

    @classmethod
    def from_environ(cls) -> Settings:
        return cls.model_validate(dict(os.environ))

    def model_for(self, role: str, stage: str) -> str:
        """The model a stage's call uses: the stage's override, else the model of its role."""
        roles = {"planning": self.planning_model, "prose": self.prose_model, "judging": self.judging_model}
        return self.stage_models.get(stage) or roles[role]

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("stage_models", "model_prices", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environ()


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()

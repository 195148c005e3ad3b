"""Settings read lazily from the environment, so importing any function never needs AWS or env vars."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    environment: str = Field("local", alias="NARRAFORGE_ENV")
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    table_name: str = Field("narraforge", alias="TABLE_NAME")
    bucket_name: str = Field("narraforge-local", alias="BUCKET_NAME")
    state_machine_arn: str = Field("", alias="STATE_MACHINE_ARN")

    # Secrets: a value from the environment wins; otherwise the SSM parameter is read (cached).
    jwt_secret: SecretStr | None = Field(None, alias="JWT_SECRET")
    jwt_secret_param: str | None = Field(None, alias="JWT_SECRET_PARAM")
    jwt_issuer: str = Field("narraforge", alias="JWT_ISSUER")
    jwt_audience: str = Field("narraforge-api", alias="JWT_AUDIENCE")
    access_token_ttl_seconds: int = Field(1800, alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_days: int = Field(7, alias="REFRESH_TOKEN_TTL_DAYS")
    bcrypt_rounds: int = Field(12, ge=4, le=16, alias="BCRYPT_ROUNDS")

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="CORS_ORIGINS")
    max_body_bytes: int = Field(1_048_576, alias="MAX_BODY_BYTES")
    default_page_size: int = Field(20, alias="DEFAULT_PAGE_SIZE")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()

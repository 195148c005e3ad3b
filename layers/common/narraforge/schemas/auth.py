"""Auth requests and responses; field names follow the reference API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, ValidationInfo, field_validator

from narraforge.enums import OAuthProvider, Tier
from narraforge.schemas.common import RequestModel
from narraforge.security.passwords import password_problems


class RegisterRequest(RequestModel):
    email: EmailStr = Field(max_length=254, examples=["user@example.com"])
    password: str = Field(
        min_length=1, max_length=1024, examples=["violet-kettle-harbour-42"],
        description="At least 12 characters (after Unicode NFKC normalisation), at most 1024; any characters, "
                    "no composition rules; refused if it is a common or breached password or your email.")
    full_name: str | None = Field(None, max_length=200, examples=["John Doe"])

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, password: str, info: ValidationInfo) -> str:
        problems = password_problems(password, info.data.get("email"))
        if problems:
            raise ValueError("password " + "; ".join(problems))
        return password


class LoginRequest(RequestModel):
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class UserResponse(BaseModel):
    id: str
    email: str
    full_name: str | None
    subscription_tier: Tier
    monthly_generation_limit: int | None = Field(description="null means unlimited")
    monthly_generations_used: int
    monthly_cost_limit_usd: float | None = Field(description="null means no cap")
    monthly_cost_used_usd: float
    created_at: datetime


class AuthResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserResponse


class OAuthStartResponse(BaseModel):
    """For SPA clients (`?format=json`): the URL to send the browser to."""

    authorization_url: str


class OAuthProviderInfo(BaseModel):
    id: OAuthProvider = Field(description="The `{provider}` of the OAuth routes")
    name: str = Field(examples=["Google"], description="What to write on the button")


class OAuthProvidersResponse(BaseModel):
    """The providers configured on this deployment (empty: password sign-in only)."""

    providers: list[OAuthProviderInfo]


class OAuthLinkRequest(RequestModel):
    password: str | None = Field(None, max_length=1024, description="Required for accounts with a password")


class DeleteAccountRequest(RequestModel):
    password: str | None = Field(None, max_length=1024, description="Required for accounts with a password")

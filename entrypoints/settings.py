"""Settings: environment variables with the prefix ZAVA_, validated once at the edge.

Every field says what it accepts; a bad value fails fast with a message naming the variable.
Secrets have no defaults.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.errors import ConfigurationError
from domain.errors import ValidationError as InvalidInput
from domain.services.identity import parse_user_id


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("zava-mcp", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZAVA_", extra="ignore", frozen=True)

    database_url: SecretStr | None = Field(
        None, description="query-role DSN of an external PostgreSQL; unset = embedded server"
    )
    admin_database_url: SecretStr | None = Field(
        None, description="owner DSN for migrations and data loads (external server only)"
    )
    data_dir: Path = Field(default_factory=_default_data_dir,
                           description="where the embedded database keeps its files")
    context_key: SecretStr | None = Field(
        None, description="hex key signing request contexts; read from the database if unset"
    )
    user_id: str | None = Field(None, description="identity of the stdio server")
    embeddings: Literal["local", "openai", "azure"] = "local"
    redis_url: SecretStr | None = None
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 key (≥ 32 bytes) for bearer tokens; `zava-mcp token` mints them"
    )
    jwt_jwks_url: str | None = Field(
        None, description="JWKS of an identity provider (RS256/ES256); needs ISSUER and AUDIENCE"
    )
    jwt_issuer: str | None = Field(None, description="expected `iss`; local default zava-mcp")
    jwt_audience: str | None = Field(None, description="expected `aud`; local default zava-retail")
    jwt_required_scope: str = Field("zava:read", description="scope a token needs for /mcp")
    jwt_user_claim: str = Field(
        "sub", description="the token claim that carries the user id (e.g. oid for Entra ID)"
    )
    public_url: str | None = Field(
        None, description="base URL clients use (e.g. https://mcp.example.com); default"
        " http://HOST:PORT. The protected resource is PUBLIC_URL/mcp",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated Host header values accepted over HTTP (DNS-rebinding"
        " protection), e.g. mcp.example.com,10.0.0.5:8000; loopback forms are always accepted",
    )
    http_max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"
    log_file: Path | None = None
    query_timeout_s: float = Field(
        30.0, gt=0, le=600, description="statement timeout of the curated tools' queries")
    model_sql_timeout_s: float = Field(
        10.0, gt=0, le=600,
        description="statement timeout of model-written SQL (execute_sales_query); at most"
        " ZAVA_QUERY_TIMEOUT_S",
    )
    max_rows: int = Field(1000, ge=1, le=100_000)
    answer_max_bytes: int = Field(
        32_768, ge=1024, le=16 * 1_048_576,
        description="largest text of one tool answer; a longer list loses its last rows, with"
        " a note saying how to narrow the question",
    )
    pool_min: int = Field(2, ge=0, le=100)
    pool_max: int = Field(10, ge=1, le=200)
    pool_max_idle_s: float = Field(300.0, gt=0)
    pool_timeout_s: float = Field(
        30.0, gt=0, le=600,
        description="longest wait for a free database connection before 'server busy, retry'",
    )
    user_max_in_flight: int | None = Field(
        None, ge=1, le=200,
        description="database queries one user may have running at once per worker; unset ="
        " three quarters of ZAVA_POOL_MAX, so other users always keep a share",
    )
    user_queue_s: float = Field(
        2.0, ge=0, le=60,
        description="how long a call beyond its user's limit waits for one of that user's own"
        " queries to finish before RATE_LIMITED",
    )
    slow_query_s: float = Field(1.0, gt=0)
    cache_ttl_s: float = Field(300.0, ge=0)
    access_cache_ttl_s: float = Field(
        30.0, ge=0, le=3600,
        description="how long a user's store access is remembered (0 = looked up on every"
        " request); the database's row-level security always applies the live grants",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("jwt_required_scope")
    @classmethod
    def _one_scope(cls, value: str) -> str:
        if not re.fullmatch(r"[!#-\[\]-~]+", value):
            raise ValueError("must be one OAuth scope token (printable ASCII, no spaces or quotes)")
        return value

    @field_validator("jwt_user_claim")
    @classmethod
    def _claim_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:.-]{0,63}", value):
            raise ValueError("must be a claim name such as sub, oid or email")
        return value

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_user_id(value)
        except InvalidInput as e:
            raise ValueError(e.message) from None

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^/?#\s@]+/?", value):
            raise ValueError("must be an http(s) base URL without a path, e.g. https://mcp.example.com")
        return None if value is None else value.rstrip("/")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _plain_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if "/" in host or " " in host or host == "*":
                raise ValueError(f"{host!r} is not a host or host:port (no scheme, no wildcard)")
        return value

    @field_validator("pool_max")
    @classmethod
    def _pool_bounds(cls, value: int, info: object) -> int:
        data = getattr(info, "data", {})
        if "pool_min" in data and value < data["pool_min"]:
            raise ValueError(f"must be ≥ ZAVA_POOL_MIN ({data['pool_min']})")
        return value

    @field_validator("model_sql_timeout_s")
    @classmethod
    def _model_sql_not_longer(cls, value: float, info: object) -> float:
        data = getattr(info, "data", {})
        if "query_timeout_s" in data and value > data["query_timeout_s"]:
            raise ValueError(f"must be ≤ ZAVA_QUERY_TIMEOUT_S ({data['query_timeout_s']:g}):"
                             " model-written SQL gets the shorter timeout")
        return value

    @field_validator("user_max_in_flight")
    @classmethod
    def _user_share_fits_the_pool(cls, value: int | None, info: object) -> int | None:
        data = getattr(info, "data", {})
        if value is not None and "pool_max" in data and value > data["pool_max"]:
            raise ValueError(f"must be ≤ ZAVA_POOL_MAX ({data['pool_max']})")
        return value

    @property
    def user_limit(self) -> int:
        """Database queries one user may have in flight per worker."""
        if self.user_max_in_flight is not None:
            return self.user_max_in_flight
        return max(1, self.pool_max * 3 // 4)

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides, e.g. from CLI flags) or raise
    ConfigurationError naming each bad variable and what it accepts."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        problems = []
        for error in e.errors():
            name = "ZAVA_" + "_".join(str(p) for p in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from None

"""Embedding and search settings, and the choice of embedding provider (composition root).

ZAVA_EMBEDDINGS (in Settings) picks the provider: `local` (default, offline), `openai` or
`azure`. The remote ones read their vendors' usual variables. Every provider makes
384-dimensional vectors (the column's size): OpenAI and Azure are asked for 384 dimensions of
text-embedding-3-small, which supports shortened vectors.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from pydantic import Field, SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.demodata.loader import rich_progress
from adapters.embeddings.local import LocalEmbeddingProvider
from adapters.embeddings.openai_api import DEFAULT_MODEL, azure_provider, openai_provider
from adapters.postgres.embedding_store import PsycopgProductEmbeddingStore
from adapters.postgres.vector_index import VectorIndexKind
from domain.errors import ConfigurationError
from domain.model import SearchMode
from domain.services.embedding_index import BuildReport, EmbeddingIndexService
from domain.services.product_search import ProductSearchService
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints
from ports.embeddings import EmbeddingProvider
from ports.product_search import ProductSearchRepository

log = logging.getLogger("zava")

Provider = Literal["local", "openai", "azure"]


class EmbeddingSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    search_mode: SearchMode = Field(
        SearchMode.HYBRID, validation_alias="ZAVA_SEARCH_MODE",
        description="hybrid (default: won on the evaluation set), vector or full_text",
    )
    search_threshold: float | None = Field(
        None, ge=0, le=1, validation_alias="ZAVA_SEARCH_THRESHOLD",
        description="default similarity threshold; unset = calibrated for the model",
    )
    vector_index: VectorIndexKind = Field(
        "ivfflat", validation_alias="ZAVA_VECTOR_INDEX",
        description="ivfflat (default: recall 1.0 at 100k) or hnsw; applied by embeddings build",
    )
    embedding_batch_size: int = Field(128, ge=1, le=2048,
                                      validation_alias="ZAVA_EMBEDDING_BATCH_SIZE")
    embedding_timeout_s: float = Field(30.0, gt=0, le=600,
                                       validation_alias="ZAVA_EMBEDDING_TIMEOUT_S")
    embedding_model: str = Field(DEFAULT_MODEL, validation_alias="ZAVA_EMBEDDING_MODEL",
                                 description="openai/azure: the model (behind the deployment)")
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    azure_openai_endpoint: str | None = Field(None, validation_alias="AZURE_OPENAI_ENDPOINT")
    azure_openai_api_key: SecretStr | None = Field(None, validation_alias="AZURE_OPENAI_API_KEY")
    azure_openai_api_version: str = Field("2024-10-21", validation_alias="OPENAI_API_VERSION")
    azure_openai_embedding_deployment: str | None = Field(
        None, validation_alias="AZURE_OPENAI_EMBEDDING_DEPLOYMENT"
    )


def load_embedding_settings() -> EmbeddingSettings:
    try:
        return EmbeddingSettings()
    except PydanticValidationError as e:
        problems = [f"{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
                    for err in e.errors()]
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from None


def embedding_provider_for(
    settings: Settings, embedding: EmbeddingSettings, provider: Provider | None = None
) -> EmbeddingProvider:
    """The provider named by `provider` (or ZAVA_EMBEDDINGS). Constructing one loads nothing
    and calls nothing; missing credentials fail here, naming the variable."""
    chosen = provider or settings.embeddings
    options = {"batch_size": embedding.embedding_batch_size}
    if chosen == "local":
        return LocalEmbeddingProvider()
    if chosen == "openai":
        if embedding.openai_api_key is None:
            raise ConfigurationError("ZAVA_EMBEDDINGS=openai needs OPENAI_API_KEY")
        return openai_provider(
            embedding.openai_api_key.get_secret_value(), base_url=embedding.openai_base_url,
            model=embedding.embedding_model, timeout_s=embedding.embedding_timeout_s, **options,
        )
    endpoint = embedding.azure_openai_endpoint
    key = embedding.azure_openai_api_key
    deployment = embedding.azure_openai_embedding_deployment
    if endpoint is None or key is None or deployment is None:
        missing = [name for name, value in (
            ("AZURE_OPENAI_ENDPOINT", endpoint), ("AZURE_OPENAI_API_KEY", key),
            ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", deployment),
        ) if value is None]
        raise ConfigurationError(f"ZAVA_EMBEDDINGS=azure needs {', '.join(missing)}")
    return azure_provider(
        endpoint, key.get_secret_value(), deployment,
        api_version=embedding.azure_openai_api_version, model=embedding.embedding_model,
        timeout_s=embedding.embedding_timeout_s, **options,
    )


def product_search_service_for(
    embedder: EmbeddingProvider, repository: ProductSearchRepository,
    embedding: EmbeddingSettings,
) -> ProductSearchService:
    return ProductSearchService(
        embedder, repository, default_mode=embedding.search_mode,
        threshold=embedding.search_threshold,
    )


def build_embeddings(
    endpoints: DatabaseEndpoints,
    settings: Settings,
    provider: Provider | None = None,
    *,
    only_if_needed: bool = False,
) -> BuildReport | None:
    """Embed the products whose vector is missing or stale, with a progress bar on stderr.
    `only_if_needed`: return None without loading the model when nothing is pending."""
    if not endpoints.admin_url:
        raise ConfigurationError(
            "building embeddings writes vectors: set ZAVA_ADMIN_DATABASE_URL (the owner's"
            " connection string)"
        )
    embedding = load_embedding_settings()
    embedder = embedding_provider_for(settings, embedding, provider)
    service = EmbeddingIndexService(
        embedder,
        PsycopgProductEmbeddingStore(endpoints.admin_url, index_kind=embedding.vector_index),
        batch_size=embedding.embedding_batch_size,
    )

    async def run() -> BuildReport | None:
        try:
            if only_if_needed:
                pending, _ = await service.pending()
                if not pending:
                    # nothing to embed; the index may still be missing or of another kind
                    if (change := await service.maintain_index()) is not None:
                        log.info("%s", change)
                    return None
                log.info("embedding %d products with %s", len(pending), embedder.model_id)
            with rich_progress() as progress:
                report = await service.build(progress)
            if report.index is not None:
                log.info("%s", report.index)
            return report
        finally:
            await embedder.aclose()

    return asyncio.run(run())

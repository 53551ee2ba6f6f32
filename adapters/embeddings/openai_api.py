"""OpenAI and Azure OpenAI embeddings through the official `openai` package (async clients).

Both serve `text-embedding-3-small` asked for 384 dimensions (the model supports shortened
vectors through the `dimensions` parameter), so one `vector(384)` column and one HNSW index
serve every provider, and a catalogue embedded through OpenAI is searchable through an Azure
deployment of the same model: the model id names the model and the size, not the vendor.

Retries are ours (the client's own are switched off so that there is one policy): tenacity
retries rate limits (429), server errors (5xx), 408/409, timeouts and connection errors, waiting
what the server asks in `Retry-After-Ms`/`Retry-After` when it says, exponential backoff with
jitter otherwise. Anything else (a bad key, an unknown deployment, a bad request) fails at once.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from domain.errors import ConfigurationError, EmbeddingServiceError
from ports.embeddings import Embedding, EmbeddingProvider

log = logging.getLogger(__name__)

DEFAULT_MODEL = "text-embedding-3-small"
DEFAULT_DIMENSIONS = 384  # the column's size; see sql/002 and the README
MAX_BATCH = 2048  # the API's limit of inputs per request
TRANSIENT_STATUS = frozenset({408, 409, 429})


def is_transient(error: BaseException) -> bool:
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in TRANSIENT_STATUS or error.status_code >= 500
    return False


def retry_after_s(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After-Ms, or Retry-After in seconds or as an
    HTTP date), or None."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


class WaitRetryAfter:
    """tenacity wait: the server's Retry-After (capped at `max_s`), else the fallback."""

    def __init__(self, fallback: Any, max_s: float) -> None:
        self._fallback = fallback
        self._max_s = max_s

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = retry_after_s(error)
        if asked is not None:
            return min(asked, self._max_s)
        return float(self._fallback(state))


class OpenAIEmbeddingProvider(EmbeddingProvider):
    """Embeddings from an `openai.AsyncOpenAI` or `openai.AsyncAzureOpenAI` client.

    `request_model` is what the request names: the model for OpenAI, the deployment for Azure.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        vendor: str = "openai",
        model: str = DEFAULT_MODEL,
        request_model: str | None = None,
        dimensions: int = DEFAULT_DIMENSIONS,
        batch_size: int = 256,
        max_attempts: int = 6,
        backoff_s: float = 0.5,
        max_wait_s: float = 60.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ConfigurationError(f"embedding batch size must be 1..{MAX_BATCH}")
        self._client = client
        self._vendor = vendor
        self._model = model
        self._request_model = request_model or model
        self._dimensions = dimensions
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._wait = WaitRetryAfter(
            wait_exponential_jitter(multiplier=backoff_s, max=max_wait_s, jitter=backoff_s),
            max_wait_s,
        )

    @property
    def model_id(self) -> str:
        return f"openai/{self._model}@{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    async def embed_query(self, text: str) -> Embedding:
        return (await self._embed_batch([text]))[0]

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        vectors: list[Embedding] = []
        for start in range(0, len(texts), self._batch_size):
            vectors += await self._embed_batch(list(texts[start:start + self._batch_size]))
        return vectors

    async def warm_up(self) -> None:
        return None  # nothing to load; a request would cost money

    async def aclose(self) -> None:
        await self._client.close()

    async def _embed_batch(self, texts: list[str]) -> list[Embedding]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._client.embeddings.create(
                        model=self._request_model,
                        input=texts,
                        dimensions=self._dimensions,
                        encoding_format="float",
                    )
        except openai.OpenAIError as e:
            raise self._translate(e) from e
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise EmbeddingServiceError(
                f"{self._vendor} returned {len(rows)} embeddings for {len(texts)} texts"
            )
        return [_unit(row.embedding, self._dimensions, self._vendor) for row in rows]

    def _translate(self, error: openai.OpenAIError) -> Exception:
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            key = "AZURE_OPENAI_API_KEY" if self._vendor == "azure" else "OPENAI_API_KEY"
            return ConfigurationError(f"{self._vendor} refused the credentials: check {key}")
        if isinstance(error, openai.NotFoundError):
            what = ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT and AZURE_OPENAI_ENDPOINT"
                    if self._vendor == "azure" else "the model name")
            return ConfigurationError(
                f"{self._vendor} does not know {self._request_model!r}: check {what}"
            )
        if isinstance(error, openai.APIStatusError):
            return EmbeddingServiceError(
                f"the {self._vendor} embedding service answered HTTP {error.status_code}"
                + (f" after {self._max_attempts} attempts" if is_transient(error) else "")
                + "; retry later"
            )
        return EmbeddingServiceError(
            f"the {self._vendor} embedding service could not be reached"
            f" ({type(error).__name__}) after {self._max_attempts} attempts; retry later"
        )


def _unit(values: Sequence[float], dimensions: int, vendor: str) -> Embedding:
    if len(values) != dimensions:
        raise EmbeddingServiceError(
            f"{vendor} returned a {len(values)}-dimensional vector; expected {dimensions}"
        )
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return tuple(v / norm for v in values)


def openai_provider(
    api_key: str, *, base_url: str | None = None, model: str = DEFAULT_MODEL,
    dimensions: int = DEFAULT_DIMENSIONS, timeout_s: float = 30.0, **options: Any,
) -> OpenAIEmbeddingProvider:
    client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s,
                                max_retries=0)
    return OpenAIEmbeddingProvider(client, vendor="openai", model=model, dimensions=dimensions,
                                   **options)


def azure_provider(
    endpoint: str, api_key: str, deployment: str, *, api_version: str,
    model: str = DEFAULT_MODEL, dimensions: int = DEFAULT_DIMENSIONS, timeout_s: float = 30.0,
    **options: Any,
) -> OpenAIEmbeddingProvider:
    client = openai.AsyncAzureOpenAI(azure_endpoint=endpoint, api_key=api_key,
                                     api_version=api_version, timeout=timeout_s, max_retries=0)
    return OpenAIEmbeddingProvider(client, vendor="azure", model=model,
                                   request_model=deployment, dimensions=dimensions, **options)

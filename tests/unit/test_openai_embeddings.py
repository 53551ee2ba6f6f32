"""The OpenAI and Azure OpenAI adapters against a loopback HTTP server that speaks the
embeddings API: real HTTP exchanges through the official client, with scripted failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from adapters.embeddings.openai_api import (
    OpenAIEmbeddingProvider,
    azure_provider,
    openai_provider,
    retry_after_s,
)
from domain.errors import ConfigurationError, EmbeddingServiceError

pytestmark = pytest.mark.anyio


@dataclass
class Scripted:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class EmbeddingsApi:
    """Answers POST …/embeddings like the API: one vector per input, `dimensions` long, in
    `data[i].index` order (shuffled, as the API does not promise order)."""

    def __init__(self) -> None:
        self.script: list[Scripted] = []
        self.requests: list[Recorded] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                api.requests.append(Recorded(self.path, headers, body, time.monotonic()))
                step = api.script.pop(0) if api.script else Scripted()
                time.sleep(step.delay_s)
                if step.status == 200:
                    payload: dict[str, Any] = api.embeddings(body)
                else:
                    payload = {"error": {"message": f"scripted {step.status}",
                                         "type": "server_error", "code": None}}
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(step.status)
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @staticmethod
    def embeddings(body: dict[str, Any]) -> dict[str, Any]:
        inputs = body["input"]
        dims = body.get("dimensions", 1536)
        data = [{"object": "embedding", "index": i,
                 "embedding": [float(len(text) + 1)] + [1.0] * (dims - 1)}
                for i, text in enumerate(inputs)]
        return {"object": "list", "data": list(reversed(data)), "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1}}


@pytest.fixture
def api() -> Iterator[EmbeddingsApi]:
    api = EmbeddingsApi()
    thread = threading.Thread(target=api.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()


def _openai(api: EmbeddingsApi, **options: Any) -> OpenAIEmbeddingProvider:
    options.setdefault("backoff_s", 0.01)
    return openai_provider("sk-test", base_url=api.url + "/v1", **options)


async def test_batches_asks_for_384_dimensions_and_keeps_the_order(api: EmbeddingsApi) -> None:
    provider = _openai(api, batch_size=2)
    try:
        vectors = await provider.embed_documents(["a", "bb", "ccc", "dddd", "eeeee"])
    finally:
        await provider.aclose()
    assert [len(r.body["input"]) for r in api.requests] == [2, 2, 1]
    assert {r.path for r in api.requests} == {"/v1/embeddings"}
    assert {r.body["dimensions"] for r in api.requests} == {384}
    assert {r.body["model"] for r in api.requests} == {"text-embedding-3-small"}
    assert api.requests[0].headers["authorization"] == "Bearer sk-test"
    assert len(vectors) == 5
    assert all(len(v) == 384 for v in vectors)
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-9 for v in vectors)  # unit length
    # order restored from `index`: the first component grows with the text's length
    firsts = [v[0] / v[1] for v in vectors]
    assert firsts == sorted(firsts)
    assert provider.model_id == "openai/text-embedding-3-small@384"


async def test_rate_limit_waits_what_retry_after_asks(api: EmbeddingsApi) -> None:
    api.script = [Scripted(429, {"retry-after": "0.4"}), Scripted(200)]
    provider = _openai(api)
    try:
        vector = await provider.embed_query("hello")
    finally:
        await provider.aclose()
    assert len(vector) == 384
    assert len(api.requests) == 2
    assert api.requests[1].at - api.requests[0].at >= 0.4


async def test_server_errors_and_timeouts_are_retried(api: EmbeddingsApi) -> None:
    api.script = [Scripted(500), Scripted(503, {"retry-after-ms": "50"}),
                  Scripted(200, delay_s=1.5), Scripted(200)]
    provider = _openai(api, timeout_s=0.5)
    try:
        vector = await provider.embed_query("hello")
    finally:
        await provider.aclose()
    assert len(vector) == 384
    assert len(api.requests) == 4


async def test_persistent_failure_is_an_embedding_service_error(api: EmbeddingsApi) -> None:
    api.script = [Scripted(503)] * 3
    provider = _openai(api, max_attempts=3)
    try:
        with pytest.raises(EmbeddingServiceError, match="HTTP 503 after 3 attempts"):
            await provider.embed_query("hello")
    finally:
        await provider.aclose()
    assert len(api.requests) == 3


@pytest.mark.parametrize(("status", "error", "message"), [
    (401, ConfigurationError, "check OPENAI_API_KEY"),
    (404, ConfigurationError, "does not know 'text-embedding-3-small'"),
    (400, EmbeddingServiceError, "HTTP 400; retry later"),
])
async def test_client_errors_fail_at_once(
    api: EmbeddingsApi, status: int, error: type[Exception], message: str
) -> None:
    api.script = [Scripted(status)]
    provider = _openai(api)
    try:
        with pytest.raises(error, match=message):
            await provider.embed_query("hello")
    finally:
        await provider.aclose()
    assert len(api.requests) == 1
    assert "sk-test" not in message


async def test_azure_uses_the_deployment_path_version_and_key(api: EmbeddingsApi) -> None:
    api.script = [Scripted(429, {"retry-after": "0"}), Scripted(200)]
    provider = azure_provider(api.url, "azure-key", "embed-small", api_version="2024-10-21",
                              backoff_s=0.01)
    try:
        vectors = await provider.embed_documents(["one", "two"])
    finally:
        await provider.aclose()
    assert len(vectors) == 2
    request = api.requests[-1]
    assert request.path == "/openai/deployments/embed-small/embeddings?api-version=2024-10-21"
    assert request.headers["api-key"] == "azure-key"
    assert request.body["dimensions"] == 384
    # the same model behind the deployment: vectors are interchangeable with OpenAI's
    assert provider.model_id == "openai/text-embedding-3-small@384"


class _Response:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


class _Error(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        self.response = _Response(headers)


def test_retry_after_forms() -> None:
    assert retry_after_s(_Error({"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(_Error({"retry-after": "3"})) == 3.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_s(_Error({"retry-after": later})) or 0) <= 30
    assert retry_after_s(_Error({})) is None
    assert retry_after_s(_Error({"retry-after": "soon"})) is None
    assert retry_after_s(None) is None

"""The SDK's per-request OpenTelemetry span middleware: kept when tracing is configured,
dropped when every span would be a no-op (entrypoints/mcp/server.py `_drop_inert_tracing`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server._otel import OpenTelemetryMiddleware
from opentelemetry import trace

from domain.model import UserId
from entrypoints.container import in_memory_container
from entrypoints.mcp.argument_errors import ArgumentErrors
from entrypoints.mcp.server import build_server
from entrypoints.settings import Settings

SEATTLE = UserId("f47ac10b-58cc-4372-a567-0e02b2c3d479")


def _has_span_middleware(tmp_path: Path) -> bool:
    server = build_server(in_memory_container(Settings(data_dir=tmp_path)), caller=lambda: SEATTLE)
    assert any(isinstance(m, ArgumentErrors) for m in server.middleware)  # ours stay
    return any(isinstance(m, OpenTelemetryMiddleware) for m in server.middleware)


def test_no_tracer_provider_no_span_middleware(tmp_path: Path) -> None:
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert not _has_span_middleware(tmp_path)


def test_a_configured_tracer_provider_keeps_the_span_middleware(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `opentelemetry-instrument` or an application's own set-up leaves behind: a provider
    # that is not the API's placeholder (set_tracer_provider is once per process, so patched).
    monkeypatch.setattr(trace, "get_tracer_provider", trace.NoOpTracerProvider)
    assert _has_span_middleware(tmp_path)


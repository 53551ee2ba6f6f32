"""A real uvicorn server in a thread, for tests that talk HTTP to the app."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from dependency_injector import providers
from starlette.types import ASGIApp

from entrypoints.container import Container
from entrypoints.http_app import build_http_app
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunningServer:
    base_url: str

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with bound_socket() as sock:
        return int(sock.getsockname()[1])


def wait_healthy(base_url: str, timeout_s: float = 60.0) -> None:
    """Until /health answers 200 with its embeddings check answered (`ok` or `failed`, not
    `loading` or `checking`): a probe no longer waits for that check, which loads a local model
    first, and what a test measures must not include the load, nor a check running on into it."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = httpx2.get(base_url + "/health", timeout=2)
            if response.status_code == 200 and not response.json()["embeddings"].startswith(
                    ("checking (", "loading (")):
                return
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url}/health never answered 200 with embeddings checked")
        time.sleep(0.1)


@contextmanager
def serve_in_thread(build_app: Callable[[int], ASGIApp]) -> Iterator[RunningServer]:
    """Bind a free loopback port, build the app for it (`build_app(port) -> ASGI app`), serve it
    from a daemon thread until the block ends, then shut it down and check it stopped."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    app = build_app(port)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url)
        yield RunningServer(base_url)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
    assert not thread.is_alive(), "the HTTP server did not shut down"


@contextmanager
def serve_with_secret(database: DatabaseEndpoints, data_dir: Path, secret: str,
                      pool_max: int = 3, *, settings: Mapping[str, Any] | None = None,
                      app: Mapping[str, Any] | None = None) -> Iterator[RunningServer]:
    """The HTTP app on `database` in a thread, accepting HS256 tokens signed with `secret` (and
    no other setting from the environment that could change what it accepts); `settings` and
    `app` are further Settings fields and build_http_app options."""
    chosen = Settings(data_dir=data_dir, pool_min=1, pool_max=pool_max, jwt_secret=secret,
                      jwt_jwks_url=None, jwt_issuer=None, jwt_audience=None,
                      public_url=None, allowed_hosts=[], **(settings or {}))
    container = Container(settings=chosen)
    container.database_endpoints.override(providers.Object(database))
    with serve_in_thread(lambda port: build_http_app(container, chosen, "127.0.0.1", port,
                                                     **(app or {}))) as running:
        yield running


def start_serve_http(port: int, env: dict[str, str], stderr_path: Path,
                     *extra_args: str) -> subprocess.Popen[bytes]:
    """`zava-mcp serve --transport http --port PORT` as a subprocess of this checkout; stdout is
    a pipe (it must stay empty), stderr goes to `stderr_path`."""
    with stderr_path.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--transport", "http",
             "--port", str(port), *extra_args],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr,
        )


@contextmanager
def serving_http(env: dict[str, str], stderr_path: Path, timeout_s: float = 120.0
                 ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`zava-mcp serve` over HTTP on a free port, healthy: its base URL and process; stopped
    with SIGTERM afterwards (killed if it does not stop within a minute)."""
    port = free_port()
    process = start_serve_http(port, env, stderr_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout_s=timeout_s)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        except Exception:
            process.kill()
            raise

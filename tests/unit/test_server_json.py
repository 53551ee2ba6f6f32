"""server.json, the MCP registry entry, describes this package as it is: its name and version,
a command line the CLI accepts for each transport, and only settings the server reads."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from entrypoints.cli import build_parser
from entrypoints.embeddings import EmbeddingSettings
from entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVER = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def settings_read_from_the_environment() -> set[str]:
    prefixed = {f"ZAVA_{name.upper()}" for name in Settings.model_fields}
    aliased = {str(f.validation_alias) for f in EmbeddingSettings.model_fields.values()}
    return prefixed | aliased


def command_line(package: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for argument in package["packageArguments"]:
        if argument["type"] == "named":
            argv.append(argument["name"])
        argv.append(argument["value"])
    return argv


def test_the_entry_names_this_package_and_version() -> None:
    assert SERVER["$schema"].endswith("/schemas/2025-12-11/server.schema.json")
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", SERVER["name"])
    assert 1 <= len(SERVER["description"]) <= 100  # the registry's limit
    assert SERVER["version"] == PROJECT["version"]
    for package in SERVER["packages"]:
        assert package["registryType"] == "pypi"
        assert package["identifier"] == PROJECT["name"]
        assert package["version"] == PROJECT["version"]
        # uvx runs the script named like the package, installed with the server's extra
        assert package["identifier"] in PROJECT["scripts"]
        assert package["runtimeArguments"] == [{
            "type": "named", "name": "--from",
            "value": f"{PROJECT['name']}[server]=={PROJECT['version']}"}]
        assert "server" in PROJECT["optional-dependencies"]


def test_there_is_a_stdio_and_an_http_entry() -> None:
    transports = {p["transport"]["type"]: p for p in SERVER["packages"]}
    assert set(transports) == {"stdio", "streamable-http"}
    http = transports["streamable-http"]
    argv = command_line(http)
    port = argv[argv.index("--port") + 1]
    assert http["transport"]["url"] == f"http://127.0.0.1:{port}/mcp"
    assert [h["name"] for h in http["transport"]["headers"]] == ["Authorization"]
    stdio_variables = {v["name"]: v for v in transports["stdio"]["environmentVariables"]}
    assert stdio_variables["ZAVA_USER_ID"]["isRequired"] is True


@pytest.mark.parametrize("package", SERVER["packages"], ids=lambda p: p["transport"]["type"])
def test_the_command_line_is_one_the_cli_accepts(package: dict[str, Any]) -> None:
    args = build_parser().parse_args(command_line(package))
    assert args.command == "serve"
    expected = "http" if package["transport"]["type"] == "streamable-http" else "stdio"
    assert args.transport == expected


@pytest.mark.parametrize("package", SERVER["packages"], ids=lambda p: p["transport"]["type"])
def test_every_setting_named_is_one_the_server_reads(package: dict[str, Any]) -> None:
    names = [v["name"] for v in package["environmentVariables"]]
    assert len(names) == len(set(names))
    assert set(names) - settings_read_from_the_environment() == set()
    for variable in package["environmentVariables"]:
        assert variable.get("description")

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import ConfigurationError
from entrypoints.cli import build_parser, main
from entrypoints.commands import mint_command
from entrypoints.http_auth import resolve_jwt_config
from entrypoints.settings import load_settings


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"ZAVA_POOL_MAX": "lots"}, "ZAVA_POOL_MAX"),
        ({"ZAVA_LOG_FORMAT": "xml"}, "ZAVA_LOG_FORMAT: Input should be 'json' or 'text'"),
        ({"ZAVA_QUERY_TIMEOUT_S": "-1"}, "ZAVA_QUERY_TIMEOUT_S"),
        ({"ZAVA_USER_ID": "x" * 300}, "ZAVA_USER_ID"),
        ({"ZAVA_JWT_USER_CLAIM": "no spaces please"}, "ZAVA_JWT_USER_CLAIM"),
        ({"ZAVA_POOL_MIN": "5", "ZAVA_POOL_MAX": "3"}, "ZAVA_POOL_MAX: Value error, must be ≥"),
        ({"ZAVA_EMBEDDINGS": "word2vec"}, "ZAVA_EMBEDDINGS"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], fragment: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert fragment in info.value.message


def test_secrets_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAVA_DATABASE_URL", "postgresql://u:hunter2@db/x")
    settings = load_settings()
    assert "hunter2" not in repr(settings)


def test_defaults_are_the_spec_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZAVA_DATABASE_URL", "ZAVA_USER_ID", "ZAVA_POOL_MIN", "ZAVA_POOL_MAX"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.uses_embedded_database
    assert (settings.pool_min, settings.pool_max, settings.pool_max_idle_s) == (2, 10, 300.0)
    assert (settings.query_timeout_s, settings.slow_query_s, settings.cache_ttl_s) == (30, 1, 300)
    assert settings.jwt_secret is None


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["db", "init", "--scale", "huge"], "invalid choice: 'huge'"),
        (["db", "init", "--seed", "abc"], "--seed must be a whole number"),
        (["db", "init", "--seed", "-1"], "--seed must be between 0 and"),
        (["db", "init", "--products", "0"], "--products must be between 1 and"),
        (["db", "init", "--anchor", "yesterday"], "--anchor must be a date YYYY-MM-DD"),
        (["serve", "--user", "x" * 300], "1 to 255 characters"),
        (["serve", "--transport", "carrier-pigeon"], "invalid choice"),
        (["db", "frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required"),
    ],
)
def test_bad_cli_input_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1, err


def test_bad_settings_reach_the_user_as_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZAVA_MAX_ROWS", "0")
    assert main(["db", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zava-mcp: error: invalid settings: ZAVA_MAX_ROWS")
    assert err.count("\n") == 1


def test_the_mint_command_names_the_servers_data_dir_when_one_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The banner's "mints more" command must sign with the server's secret: a bare
    `zava-mcp token` looks in the default data dir, so a given one is spelled out."""
    for name in ("ZAVA_DATA_DIR", "ZAVA_JWT_SECRET", "ZAVA_JWT_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    given = tmp_path / "data dir"
    monkeypatch.setenv("ZAVA_DATA_DIR", str(given))
    settings = load_settings()
    command = mint_command(settings, resolve_jwt_config(settings))
    assert command == f"ZAVA_DATA_DIR='{given}' zava-mcp token --user ID [--ttl S]"

    monkeypatch.delenv("ZAVA_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # the default data dir's parent
    default = load_settings()
    assert default.data_dir == tmp_path / "xdg" / "zava-mcp"
    assert mint_command(default, resolve_jwt_config(default)) == (
        "zava-mcp token --user ID [--ttl S]")

    # a configured secret is the same in every shell that has the setting: nothing to add
    monkeypatch.setenv("ZAVA_DATA_DIR", str(given))
    monkeypatch.setenv("ZAVA_JWT_SECRET", "s" * 40)
    configured = load_settings()
    assert mint_command(configured, resolve_jwt_config(configured)) == (
        "zava-mcp token --user ID [--ttl S]")

"""The CLI commands: each turns parsed arguments and settings into calls on the adapters."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.demodata.loader import rich_progress
from adapters.postgres import provisioning
from adapters.postgres.embedded import EmbeddedPostgresServer
from adapters.postgres.startup_checks import user_is_known, verify_serving_database
from domain.errors import ConfigurationError, UnknownUserError
from domain.model import UserId
from domain.services.identity import not_registered_message, parse_user_id
from entrypoints.container import Container, database_server_for
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints

if TYPE_CHECKING:
    from entrypoints.http_app import DemoToken
    from entrypoints.http_auth import JwtConfig

log = logging.getLogger("zava")

BANNER_TOKEN_TTL_S = 24 * 3600


def serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.transport == "http":
        if args.insecure_fixed_user:
            return _serve_http_as_fixed_user(args, settings)
        return _serve_http(args, settings)
    if args.insecure_fixed_user:
        raise ConfigurationError(
            "--insecure-fixed-user is for --transport http; stdio serves --user ID"
            " (or ZAVA_USER_ID)"
        )

    from entrypoints.mcp.server import build_server

    raw_user = args.user or (str(settings.user_id) if settings.user_id else None)
    if raw_user is None:
        raise ConfigurationError(
            "no user to serve as: set ZAVA_USER_ID or pass --user ID"
            " (`zava-mcp users` lists them)"
        )
    user_id = parse_user_id(raw_user)
    container, endpoints = _serving_container(settings, user_id)
    log.info("serving as %s over stdio (%s database)", user_id, endpoints.kind)
    build_server(container, caller=lambda: user_id).run()
    return 0


def _serving_container(
    settings: Settings, user_id: UserId
) -> tuple[Container, DatabaseEndpoints]:
    """The container of a server that serves as one user: on an initialised database it may
    serve from, and refusing a user the database does not know."""
    container = Container(settings=settings)
    endpoints = container.database_endpoints()
    _ensure_initialised(endpoints, settings)
    verify_serving_database(endpoints.query_url)
    _require_registered(container, user_id)
    return container, endpoints


def _serve_http(args: argparse.Namespace, settings: Settings) -> int:
    """Serve streamable HTTP to many users; each request's bearer token says who is asking."""
    from entrypoints import http_app
    from entrypoints.http_auth import is_loopback_host, resolve_jwt_config
    from entrypoints.http_workers import bind_listeners

    if args.user:
        raise ConfigurationError(
            "--user is for stdio: over HTTP every request's bearer token names its user"
        )
    listeners = bind_listeners(args.host, args.port)  # a port in use: one line, nothing else
    config = resolve_jwt_config(settings, serving_host=args.host)
    container = Container(settings=settings)
    endpoints = container.database_endpoints()
    _ensure_initialised(endpoints, settings)
    verify_serving_database(endpoints.query_url)
    app = http_app.build_http_app(container, settings, args.host, args.port, jwt_config=config)
    mcp_url = http_app.base_url_for(settings, args.host, args.port) + http_app.MCP_PATH
    # Ready tokens only for the local quick start: a shared server's stderr ends up in logs.
    local = config.can_mint and is_loopback_host(args.host)
    tokens = _demo_tokens(endpoints, config) if local else []
    sys.stderr.write(
        http_app.connection_instructions(mcp_url, config, tokens, BANNER_TOKEN_TTL_S,
                                         mint_command(settings, config))
    )
    sys.stderr.flush()
    log.info("serving streamable HTTP on %s:%d (%s database)", args.host, args.port,
             endpoints.kind)
    http_app.run_http_server(app, args.host, args.port, listeners, settings,
                             workers=args.workers)
    return 0


def _serve_http_as_fixed_user(args: argparse.Namespace, settings: Settings) -> int:
    """`--insecure-fixed-user ID`: HTTP without tokens, for local tests (entrypoints/fixed_user.py
    says why it cannot face a network). Refused before anything starts unless loopback."""
    from entrypoints import http_app
    from entrypoints.fixed_user import FixedUser, check_fixed_user_allowed, insecure_warning
    from entrypoints.http_workers import bind_listeners

    if args.user:
        raise ConfigurationError("--user is for stdio; over HTTP --insecure-fixed-user names it")
    check_fixed_user_allowed(args.host, settings, args.workers)
    listeners = bind_listeners(args.host, args.port)
    user_id = parse_user_id(args.insecure_fixed_user)
    container, _ = _serving_container(settings, user_id)
    fixed = FixedUser.new(user_id)  # MCP under a path only this start's banner names
    app = http_app.build_http_app(container, settings, args.host, args.port, fixed_user=fixed)
    mcp_url = http_app.base_url_for(settings, args.host, args.port) + fixed.path
    sys.stderr.write(f"Zava Retail MCP: streamable HTTP at {mcp_url}\n"
                     f"  {insecure_warning(mcp_url, user_id)}\n")
    sys.stderr.flush()
    http_app.run_http_server(app, args.host, args.port, listeners, settings)
    return 0


def _demo_tokens(endpoints: DatabaseEndpoints, config: JwtConfig) -> list[DemoToken]:
    from entrypoints.http_app import DemoToken

    if not endpoints.admin_url:
        return []
    return [
        DemoToken(row["display_name"], row["user_id"],
                  config.mint(UserId(row["user_id"]), BANNER_TOKEN_TTL_S))
        for row in provisioning.list_users(endpoints.admin_url)
    ]


def token(args: argparse.Namespace, settings: Settings) -> int:
    """Print one bearer token (and nothing else) so scripts can capture it."""
    from entrypoints.http_auth import LOCAL_SECRET_FILE, LOCAL_SECRET_SOURCE, resolve_jwt_config

    user_id = parse_user_id(args.user)
    container = Container(settings=settings)
    endpoints = container.database_endpoints()
    if endpoints.admin_url and not provisioning.status(endpoints).initialised:
        raise ConfigurationError(
            "the database is not initialised, so no user is registered: run `zava-mcp db init`"
        )
    _require_registered(container, user_id)
    secret_file = settings.data_dir / LOCAL_SECRET_FILE
    had_secret = secret_file.exists()
    config = resolve_jwt_config(settings)
    print(config.mint(user_id, args.ttl))
    if config.source == LOCAL_SECRET_SOURCE and not had_secret:
        # No server has used this data directory yet: say so, in case one runs elsewhere.
        print(f"zava-mcp token: created a new signing secret {secret_file}; only a server with"
              " the same ZAVA_DATA_DIR accepts this token", file=sys.stderr)
    return 0


def _require_registered(container: Container, user_id: UserId) -> None:
    """Refuse a stranger in the same words as the HTTP server's 403 (a token minted for them
    would only be refused)."""
    endpoints = container.database_endpoints()
    if not user_is_known(endpoints.query_url, container.context_signer(), user_id):
        raise UnknownUserError(not_registered_message(user_id))


def mint_command(settings: Settings, config: JwtConfig) -> str:
    """How to mint more tokens for this server, from another shell: with the server's data
    directory when it was given (a bare `zava-mcp token` would sign with another secret)."""
    from entrypoints.http_auth import LOCAL_SECRET_SOURCE

    command = "zava-mcp token --user ID [--ttl S]"
    if config.source == LOCAL_SECRET_SOURCE and "data_dir" in settings.model_fields_set:
        return f"ZAVA_DATA_DIR={shlex.quote(str(settings.data_dir))} {command}"
    return command


def _ensure_initialised(endpoints: DatabaseEndpoints, settings: Settings) -> None:
    """First run: migrate, load the demo data, then embed the catalogue for product search
    (later runs embed only what is missing or stale for ZAVA_EMBEDDINGS' model)."""
    from entrypoints.embeddings import build_embeddings

    state = provisioning.status(endpoints)
    if not (state.initialised and state.schema_version == state.latest_version):
        if endpoints.kind == "external" and not endpoints.admin_url:
            raise ConfigurationError(
                "the database is not initialised: set ZAVA_ADMIN_DATABASE_URL and run"
                " `zava-mcp db init`"
            )
        log.info("initialising the database (first run)")
        with rich_progress() as progress:
            provisioning.initialise(endpoints, provisioning.DemoDataRequest(), progress=progress)
    if endpoints.admin_url:
        build_embeddings(endpoints, settings, only_if_needed=True)
    else:
        log.info("no ZAVA_ADMIN_DATABASE_URL: not checking the product vectors"
                 " (`zava-mcp embeddings build` embeds them)")


def db_init(args: argparse.Namespace, settings: Settings) -> int:
    endpoints = database_server_for(settings).start()
    request = None if args.no_demo else provisioning.DemoDataRequest(
        seed=args.seed, scale=args.scale, products=args.products, anchor=args.anchor
    )
    with rich_progress() as progress:
        report = provisioning.initialise(endpoints, request, reset=args.reset, progress=progress)
    if report.already_initialised:
        print("already initialised (use --reset to rebuild)", file=sys.stderr)
    else:
        rows = sum(report.loaded.values())
        print(f"initialised: {len(report.migrations_applied)} migrations, {rows} rows"
              + (" (no demo data: `zava-mcp db import DIR` loads yours)" if request is None
                 else ""), file=sys.stderr)
    for change in report.distributed:
        print(f"citus: {change}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def embeddings_build(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints.embeddings import build_embeddings

    endpoints = database_server_for(settings).start()
    if not provisioning.status(endpoints).initialised:
        raise ConfigurationError("the database is not initialised: run `zava-mcp db init` first")
    report = build_embeddings(endpoints, settings, args.provider)
    assert report is not None
    print(f"embeddings: {report.embedded} products embedded, {report.up_to_date} already up to"
          f" date ({report.model_id})", file=sys.stderr)
    if report.index is not None:
        print(f"vector index: {report.index}", file=sys.stderr)
    return 0


def db_status(args: argparse.Namespace, settings: Settings) -> int:
    endpoints = database_server_for(settings).start()
    state = provisioning.status(endpoints)
    lines = [
        f"database: {state.kind}"
        + (f" ({settings.data_dir})" if state.kind == "embedded" else ""),
        f"schema version: {state.schema_version or 'not initialised'}"
        f" (latest {state.latest_version})",
    ]
    if state.dataset:
        d = state.dataset
        lines.append(f"demo data: scale {d['scale']}, seed {d['seed']}, anchor {d['anchor_date']}")
    for load in state.loads:
        what = (f"imported {load['source']}" + (" (replacing)" if load["replaced"] else "")
                if load["kind"] == "import" else "initialised without demo data")
        lines.append(f"{what} at {load['loaded_at']:%Y-%m-%d %H:%M}")
    lines += [f"  {table:<45} {count:>10,}" for table, count in state.row_counts.items()]
    if state.citus_version:
        lines.append(f"citus {state.citus_version}: distribution")
        lines += [
            f"  {t.table:<45} {t.kind:<12}"
            + (f" by {t.distribution_column}, {t.shard_count} shards, colocation {t.colocation_id}"
               if t.kind == "distributed" else "")
            for t in state.distribution
        ]
    print("\n".join(lines))
    return 0


def db_refresh_rollups(args: argparse.Namespace, settings: Settings) -> int:
    endpoints = database_server_for(settings).start()
    if not endpoints.admin_url:
        raise ConfigurationError("refreshing the rollups needs ZAVA_ADMIN_DATABASE_URL")
    refreshed = provisioning.refresh_rollups(endpoints.admin_url, full=args.full)
    print(f"sales rollups refreshed: {refreshed.summary()}", file=sys.stderr)
    return 0


def db_url(args: argparse.Namespace, settings: Settings) -> int:
    server = database_server_for(settings)
    if isinstance(server, EmbeddedPostgresServer):
        # leave it running so that psql can connect; `zava-mcp db stop` stops it
        server = EmbeddedPostgresServer(settings.data_dir, stop_on_exit=False)
        print("embedded server left running; `zava-mcp db stop` stops it", file=sys.stderr)
    print(server.start().query_url)
    return 0


def db_stop(args: argparse.Namespace, settings: Settings) -> int:
    """Stop the data dir's embedded PostgreSQL, unless a server still uses it; says which."""
    server = database_server_for(settings)
    if not isinstance(server, EmbeddedPostgresServer):
        raise ConfigurationError("ZAVA_DATABASE_URL is set: an external server is not ours to stop")
    state = server.state()
    if state.postmaster_pid is None:
        print(f"the embedded PostgreSQL of {server.pgdata} is not running: nothing to stop",
              file=sys.stderr)
        return 0
    if state.attached_pids:
        users = ", ".join(_describe_process(pid) for pid in state.attached_pids)
        raise ConfigurationError(
            f"the embedded PostgreSQL of {server.pgdata} is in use by {users}: stop"
            " it first (PostgreSQL stops by itself when the last one exits)"
        )
    server.start()  # attach, as the only user left, so that stopping is ours to do
    server.stop()
    print(f"stopped the embedded PostgreSQL of {server.pgdata} (pid {state.postmaster_pid})",
          file=sys.stderr)
    return 0


def _describe_process(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    command = " ".join(" ".join(a.decode(errors="replace").split()) for a in argv if a)
    return f"pid {pid} ({command[:80]})" if command else f"pid {pid}"

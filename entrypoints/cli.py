"""`zava-mcp`: the command line.

Every failure the user can fix is one line on stderr naming what was wrong and what is accepted,
and exit status 2. stdout carries only the command's result (in stdio mode it is the MCP wire).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, NoReturn

from domain.errors import ValidationError, ZavaError
from domain.model import Role
from domain.services.identity import parse_user_id
from entrypoints.settings import Settings, load_settings

log = logging.getLogger("zava")

SCALES = ("small", "large")
ROLES = tuple(r.value for r in Role)
MAX_TOKEN_TTL_S = 30 * 24 * 3600


class OneLineErrorParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(name: str, upper: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {raw!r}")
        if not 1 <= value <= upper:
            raise argparse.ArgumentTypeError(f"{name} must be between 1 and {upper}, got {value}")
        return value

    return parse


def _seed(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number, got {raw!r}")
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"--seed must be between 0 and 2147483647, got {value}")
    return value


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--anchor must be a date YYYY-MM-DD, got {raw!r}")


def _user(raw: str) -> str:
    try:
        return str(parse_user_id(raw))
    except ValidationError as e:
        raise argparse.ArgumentTypeError(e.message)


def add_user_commands(
    users: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]
) -> None:
    users.add_argument("--json", action="store_true", help="list as JSON")
    actions = users.add_subparsers(dest="users_command", required=False,
                                   parser_class=parser_class)
    add = actions.add_parser("add", help="register a user (the identity provider's id)")
    add.add_argument("--id", required=True, help="user id: the token's subject, 1-255 chars")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--stores", help="store codes, names or cities, comma-separated"
                     " (not for head_office, which sees every store)")
    add.add_argument("--email", help="e-mail address (optional)")
    for name, text in (("grant", "let a user see more stores"),
                       ("revoke", "stop a user seeing stores (from their next call)")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--id", required=True)
        action.add_argument("--stores", required=True,
                            help="store codes, names or cities, comma-separated")
    remove = actions.add_parser("remove", help="unregister a user")
    remove.add_argument("--id", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="zava-mcp", description="Zava Retail MCP server")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineErrorParser)

    serve = commands.add_parser("serve", help="run the MCP server")
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                       help="stdio for one desktop client (default), http for a team")
    serve.add_argument("--host", default="127.0.0.1",
                       help="http: address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_positive_int("--port", 65535), default=8000,
                       help="http: port to listen on (default 8000)")
    serve.add_argument("--workers", type=_positive_int("--workers", 64), default=1,
                       help="http: worker processes sharing nothing but the database and Redis"
                       " (default 1)")
    serve.add_argument("--user", type=_user,
                       help="stdio: user id to serve as (default ZAVA_USER_ID)")
    serve.add_argument("--insecure-fixed-user", type=_user, metavar="ID",
                       help="http, tests only: no bearer tokens, every request is this user;"
                       " accepted only on a loopback --host with one worker")

    db = commands.add_parser("db", help="create or inspect the database")
    db_commands = db.add_subparsers(dest="db_command", required=True,
                                    parser_class=OneLineErrorParser)
    init = db_commands.add_parser("init", help="migrate and load the demo data")
    init.add_argument("--scale", choices=SCALES, default="small")
    init.add_argument("--seed", type=_seed, default=42)
    init.add_argument("--products", type=_positive_int("--products", 1_000_000))
    init.add_argument("--anchor", type=_iso_date, help="last day of the demo data (default today)")
    init.add_argument("--reset", action="store_true", help="drop and rebuild everything")
    init.add_argument("--no-demo", action="store_true",
                      help="the schema only, no demo rows (then `db import DIR`)")
    load = db_commands.add_parser("import", help="load your own data from six CSV files"
                                  " (README: Your own data)")
    load.add_argument("directory", help="directory with stores.csv, products.csv,"
                      " customers.csv, orders.csv, order_items.csv, inventory.csv")
    load.add_argument("--replace", action="store_true",
                      help="replace the stores, products, customers, orders and stock (users stay)")
    db_commands.add_parser("status", help="schema version, row counts, embedded or external")
    refresh = db_commands.add_parser(
        "refresh-rollups",
        help="recompute the daily sales rollups of the store-days whose orders changed"
             " (Citus: after loads or on a schedule)",
    )
    refresh.add_argument("--full", action="store_true",
                         help="rebuild every store-day (repairs; a single node's triggers"
                              " keep them exact otherwise)")
    db_commands.add_parser("url", help="print the query role's connection string (for psql)")
    db_commands.add_parser("stop", help="stop the embedded database server")

    embeddings = commands.add_parser("embeddings", help="product vectors for semantic search")
    embeddings_commands = embeddings.add_subparsers(dest="embeddings_command", required=True,
                                                    parser_class=OneLineErrorParser)
    build = embeddings_commands.add_parser(
        "build", help="embed the products whose vector is missing or stale (resumable)"
    )
    build.add_argument("--provider", choices=("local", "openai", "azure"),
                       help="embedding provider (default ZAVA_EMBEDDINGS, i.e. local)")

    add_user_commands(
        commands.add_parser("users", help="list, add or remove users; grant or revoke stores"),
        OneLineErrorParser,
    )

    token = commands.add_parser("token", help="mint a bearer token for the HTTP transport")
    token.add_argument("--user", type=_user, required=True, help="user id the token is for")
    token.add_argument("--ttl", type=_positive_int("--ttl", MAX_TOKEN_TTL_S), default=3600,
                       help=f"lifetime in seconds (default 3600, at most {MAX_TOKEN_TTL_S})")

    health = commands.add_parser("health", help="check database, embeddings and cache")
    health.add_argument("--json", action="store_true")
    commands.add_parser("demo", help="a scripted tour: three users, same questions, different"
                        " answers")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _install_sigterm_exit()
    try:
        settings = load_settings()
        _configure_logging(settings)
        return _dispatch(args, settings)
    except ZavaError as e:
        print(f"zava-mcp: error: {e.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints import commands, data_commands, ops_commands, user_commands

    handlers: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "serve": commands.serve,
        "users": user_commands.users,
        "users add": user_commands.users,
        "users grant": user_commands.users,
        "users revoke": user_commands.users,
        "users remove": user_commands.users,
        "token": commands.token,
        "health": ops_commands.health,
        "demo": ops_commands.demo,
        "db init": commands.db_init,
        "db import": data_commands.db_import,
        "db status": commands.db_status,
        "db refresh-rollups": commands.db_refresh_rollups,
        "db url": commands.db_url,
        "db stop": commands.db_stop,
        "embeddings build": commands.embeddings_build,
    }
    subcommand = getattr(args, f"{args.command}_command", None)
    key = args.command if subcommand is None else f"{args.command} {subcommand}"
    return handlers[key](args, settings)


def _install_sigterm_exit() -> None:
    """Turn SIGTERM into a normal exit so cleanup (pool close, embedded postgres stop) runs."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _configure_logging(settings: Settings) -> None:
    from entrypoints.logging_config import configure_logging

    configure_logging(settings.log_level, settings.log_format, settings.log_file)


if __name__ == "__main__":
    raise SystemExit(main())

"""`zava-mcp db import DIR [--replace]`: your own data.

The import checks every row before loading anything; its problems go to stderr as
`file:line: column: what is wrong, what is accepted` (the first 50, then a count) with exit
status 2. After the load, new products are embedded (as `embeddings build` does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapters.demodata.loader import rich_progress
from adapters.postgres import provisioning
from adapters.postgres.data_import import ImportRefused, import_directory
from domain.errors import ConfigurationError
from entrypoints.container import database_server_for
from entrypoints.settings import Settings
from ports.database_server import DatabaseEndpoints


def db_import(args: argparse.Namespace, settings: Settings) -> int:
    from entrypoints.embeddings import build_embeddings

    endpoints = _initialised(settings)
    directory = Path(args.directory)
    try:
        with rich_progress() as progress:
            report = import_directory(endpoints.admin_url, directory, replace=args.replace,
                                      progress=progress)
    except ImportRefused as refused:
        print(refused.problems.report(), file=sys.stderr)
        print(f"zava-mcp: error: {refused.message}", file=sys.stderr)
        return 2
    if state_on_citus(endpoints):  # no rollup triggers on distributed tables
        refreshed = provisioning.refresh_rollups(endpoints.admin_url)
        print(f"sales rollups refreshed: {refreshed.summary()}", file=sys.stderr)
    else:
        print("sales rollups: kept exact by their triggers in the import's transaction",
              file=sys.stderr)
    for user, code in report.grants_dropped:
        print(f"note: {user} no longer sees store {code} (it is not in the imported data)",
              file=sys.stderr)
    loaded = ", ".join(f"{table.removeprefix('retail.')} {rows:,}"
                       for table, rows in report.rows.items() if rows)
    print(f"imported {directory} ({'replacing' if args.replace else 'adding to'} the data):"
          f" {loaded}; checked in {report.check_s:.1f} s, loaded in {report.load_s:.1f} s",
          file=sys.stderr)
    if report.new_products:
        embedded = build_embeddings(endpoints, settings, only_if_needed=True)
        if embedded is not None:
            print(f"embeddings: {embedded.embedded} products embedded ({embedded.model_id})",
                  file=sys.stderr)
    return 0


def state_on_citus(endpoints: DatabaseEndpoints) -> bool:
    return provisioning.status(endpoints).citus_version is not None


def _initialised(settings: Settings) -> DatabaseEndpoints:
    endpoints = database_server_for(settings).start()
    if not endpoints.admin_url:
        raise ConfigurationError("loading data needs ZAVA_ADMIN_DATABASE_URL (the owner's DSN)")
    state = provisioning.status(endpoints)
    if not state.initialised or state.schema_version != state.latest_version:
        raise ConfigurationError(
            "the database is not initialised: run `zava-mcp db init --no-demo` first"
        )
    return endpoints

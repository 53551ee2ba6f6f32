"""Benchmark: `zava-mcp db import` of a file set with 1M order lines (target: <= 90 s).

The file set is the demo chain (`large` scale: ~1M orders, ~2.6M lines) exported as the six
CSV files and cut after the orders holding the first N order lines (default 1,000,000), kept
under .data/bench-import-<N> between runs. Each round imports it into a fresh embedded
PostgreSQL initialised with `db init --no-demo`, the way an operator would:

- `check`: the first read of every file, every row checked (types, references, duplicates);
- `load`: the second read streamed as COPY in one transaction (deferred indexes and foreign
  keys on the empty big tables, the sales rollups maintained by their statement triggers),
  then ANALYZE;
- `embed`: the products' vectors with the local model (`embeddings build`, only new ones).

Baseline in the same run: reading the same files with `csv.reader` and doing nothing else (the
floor for any Python import of them). Results: bench/results/import.md and .json.

    .venv/bin/python bench/import.py [--order-lines 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from _common import (  # noqa: E402
    BENCH_ANCHOR,
    RESULTS,
    machine_description,
    machine_markdown,
)

from adapters.demodata.csv_export import export_csv  # noqa: E402
from adapters.demodata.generator import generate_dataset  # noqa: E402
from adapters.postgres import provisioning  # noqa: E402
from adapters.postgres.data_import import import_directory  # noqa: E402
from adapters.postgres.embedded import EmbeddedPostgresServer  # noqa: E402
from entrypoints.embeddings import build_embeddings  # noqa: E402
from entrypoints.settings import Settings  # noqa: E402

TARGET_S = 90.0


def file_set(order_lines: int) -> tuple[Path, dict[str, int]]:
    directory = ROOT / ".data" / f"bench-import-{order_lines}"
    counts_file = directory / "counts.json"
    if counts_file.exists():
        return directory, json.loads(counts_file.read_text())
    print(f"exporting the large demo chain cut at {order_lines:,} order lines…", file=sys.stderr)
    counts = export_csv(generate_dataset(seed=42, anchor=BENCH_ANCHOR, scale="large"),
                        directory, max_order_lines=order_lines)
    counts_file.write_text(json.dumps(counts))
    return directory, counts


def read_only(directory: Path) -> float:
    started = time.perf_counter()
    for path in sorted(directory.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for _row in csv.reader(f):
                pass
    return time.perf_counter() - started


def one_round(directory: Path) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="zava-bench-import-"))
    server = EmbeddedPostgresServer(data_dir)
    try:
        endpoints = server.start()
        provisioning.initialise(endpoints, None)
        started = time.perf_counter()
        report = import_directory(endpoints.admin_url, directory, replace=False)
        imported = time.perf_counter()
        embedded = build_embeddings(endpoints, Settings(data_dir=data_dir),
                                    only_if_needed=True)
        done = time.perf_counter()
        assert embedded is not None
        return {"check_s": report.check_s, "load_s": report.load_s,
                "import_s": imported - started, "embed_s": done - imported,
                "total_s": done - started}
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--order-lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    directory, counts = file_set(args.order_lines)
    rounds, baselines = [], []
    for n in range(args.rounds):
        baselines.append(read_only(directory))
        rounds.append(one_round(directory))
        print(f"round {n + 1}: {rounds[-1]} (csv.reader alone {baselines[-1]:.1f} s)",
              file=sys.stderr)
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    baseline = statistics.median(baselines)
    machine = machine_description()
    result = {"machine": machine, "files": counts, "rounds": rounds, "median": median,
              "csv_reader_s": baseline, "target_s": TARGET_S}
    (RESULTS / "import.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = "\n".join(f"| {k} | {v:.1f} |" for k, v in median.items())
    verdict = "met" if median["total_s"] <= TARGET_S else "not met"
    files = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    ratio = median["import_s"] / baseline
    (RESULTS / "import.md").write_text(
        f"# `zava-mcp db import`: {counts['order_items.csv']:,} order lines\n\n"
        f"Files: {files}.\n"
        f"Median of {len(rounds)} rounds, each into a fresh embedded PostgreSQL after"
        " `db init --no-demo`.\n\n"
        f"| phase | seconds |\n|---|---|\n{rows}\n\n"
        f"Target: import (check + load) + embeddings <= {TARGET_S:.0f} s: **{verdict}**"
        f" ({median['total_s']:.1f} s). Baseline in the same run: reading the same files with"
        f" `csv.reader` and nothing else, {baseline:.1f} s (the import is {ratio:.1f}x"
        " that).\n\n"
        f"Machine:\n{machine_markdown(machine)}\n"
    )
    print(json.dumps(median, indent=2))


if __name__ == "__main__":
    main()

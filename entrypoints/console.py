"""The `zava-mcp` console script. The command line needs the package's [server] extra; a plain
install (the domain as a library) gets one line saying how to add it, not an ImportError
traceback."""

from __future__ import annotations

import sys

SERVER_EXTRA_INSTALL = "pip install 'zava-retail-mcp[server]'"
_FIRST_PARTY = frozenset({"domain", "ports", "adapters", "entrypoints"})


def main() -> int:
    try:
        from entrypoints.cli import main as cli_main
    except ModuleNotFoundError as missing:
        package = (missing.name or "").partition(".")[0]
        if not package or package in _FIRST_PARTY:
            raise
        print(
            f"zava-mcp: error: the command line needs the [server] extra ({package} is not"
            f" installed): {SERVER_EXTRA_INSTALL}",
            file=sys.stderr,
        )
        return 2
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())

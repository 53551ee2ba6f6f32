"""The domain's public API: every name in `domain.__all__` resolves, whichever module a
consumer imports first (the services are loaded lazily because `ports` imports `domain.model`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import domain


@pytest.mark.parametrize("first", ["domain", "ports.access", "domain.model", "adapters.memory"])
def test_every_public_name_resolves_whatever_is_imported_first(first: str) -> None:
    code = (f"import {first}\nimport domain\n"
            "missing = [n for n in domain.__all__ if getattr(domain, n, None) is None]\n"
            "assert not missing, missing\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchService'"):
        domain.NoSuchService  # noqa: B018

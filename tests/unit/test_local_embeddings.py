"""The local model adapter: pinned weights, lazy and once per process, safe under concurrent
calls, quiet on stdout, and semantically sensible."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adapters.embeddings import local
from adapters.embeddings.local import (
    MODEL_ID,
    WEIGHTS_FILE,
    WEIGHTS_SHA256,
    LocalEmbeddingProvider,
    bundled_model_dir,
    file_sha256,
)
from domain.errors import ConfigurationError

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def test_the_bundled_weights_are_the_pinned_ones() -> None:
    assert file_sha256(bundled_model_dir() / WEIGHTS_FILE) == WEIGHTS_SHA256
    # the digest measured in ../shared/notes/dependencies.md
    assert (WEIGHTS_SHA256[:8], WEIGHTS_SHA256[-4:]) == ("53aa5117", "d9db")


async def test_weights_with_another_digest_are_refused(tmp_path: Path) -> None:
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not the model")
    provider = LocalEmbeddingProvider(tmp_path)
    with pytest.raises(ConfigurationError, match=r"refusing to load .* sha256"):
        await provider.embed_query("hello")
    assert tmp_path.resolve() not in local._models


def test_loading_is_lazy_and_nothing_reaches_stdout() -> None:
    """In a fresh interpreter: constructing the provider imports no ML library; embedding
    loads the model and writes nothing to stdout (the MCP wire in stdio mode)."""
    script = textwrap.dedent("""
        import asyncio, sys
        from adapters.embeddings.local import LocalEmbeddingProvider
        provider = LocalEmbeddingProvider()
        assert provider.model_id.endswith("@384")
        lazy = not any(m in sys.modules for m in ("torch", "sentence_transformers"))
        vector = asyncio.run(provider.embed_query("something to cut branches"))
        sys.stderr.write(f"RESULT lazy={lazy} dims={len(vector)}\\n")
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=240, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == ""
    assert "RESULT lazy=True dims=384" in run.stderr


async def test_concurrent_calls_load_once_and_agree(
    local_embeddings: LocalEmbeddingProvider,
) -> None:
    texts = ["garden hose", "claw hammer", "ceiling paint", "garden hose"] * 3
    concurrent = await asyncio.gather(*(local_embeddings.embed_query(t) for t in texts))
    assert len({id(m) for m in local._models.values()}) == len(local._models) == 1
    sequential = await local_embeddings.embed_documents(texts)
    for a, b in zip(concurrent, sequential, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4
    assert concurrent[0] == concurrent[3]
    assert all(abs(sum(x * x for x in v) - 1) < 1e-4 for v in concurrent)


async def test_meaning_not_words(local_embeddings: LocalEmbeddingProvider) -> None:
    query, shears, paint = await local_embeddings.embed_documents([
        "something to cut branches",
        "Pruning Tools: Hand pruners with sharp bypass blades that cut cleanly through"
        " branches and stems up to 3/4 inch thick without crushing them.",
        "Interior Paint: A flat white paint for ceilings that hides stains and patches.",
    ])

    def cosine(a: tuple[float, ...], b: tuple[float, ...]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(query, shears) > cosine(query, paint) + 0.2
    assert local_embeddings.model_id == MODEL_ID


def test_loading_the_model_leaves_the_rest_of_the_process_output_where_it_was() -> None:
    """`zava-mcp demo` prints while the model warms up in a thread; each of its lines stays on
    stdout (a process-wide redirect of stdout during the load sent some to stderr)."""
    script = textwrap.dedent("""
        import asyncio, sys, threading
        from adapters.embeddings.local import LocalEmbeddingProvider
        loading = threading.Thread(target=lambda: asyncio.run(LocalEmbeddingProvider().warm_up()))
        loading.start()
        n = 0
        while loading.is_alive():
            print(f"line {n}", flush=True)
            n += 1
            loading.join(0.01)
        sys.stderr.write(f"PRINTED {n}\\n")
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=240, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = int(run.stderr.split("PRINTED ")[1])
    assert printed > 10  # the lines overlapped the load
    assert run.stdout.splitlines() == [f"line {n}" for n in range(printed)]
    assert "line " not in run.stderr

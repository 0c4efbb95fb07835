"""Is a question about management? The coach's calibrated relevance gate.

Three signals, all computed from the question's embedding (bundled multilingual-e5-small):

* ``library``: cosine similarity of the question to its closest practice among those retrieved;
* ``margin``: mean similarity to the three closest *on-topic* exemplar questions below minus
  the mean to the three closest *off-topic* ones (a small nearest-neighbour classifier: e5
  query-to-query similarities are high for everything, only the difference is informative);
* a lexical check: whether the closest practices share a content word with the question.

Calibration (November 2026, 416 editorial practices; the exemplars below were written for this
purpose and share no sentence with the evaluation sets): on the 48 management questions of
``shared/eval/coach_dev.jsonl`` the score ``library - LIBRARY_PIVOT + margin`` ranges from
+0.049 to +0.11; on 20 off-topic questions (the 8 of ``offtopic_dev.jsonl`` and 12 written
apart: recipes, sport, maths, IT help, translation, prompt injection…) from -0.075 to -0.008.
The threshold sits between the two groups, nearer the off-topic side because declining a real
management question costs the manager more than answering a stray one with practices.

With an API embedding model (``CAMPUS_EMBEDDING_MODEL``) the similarities live on another
scale: recalibrate with ``manage.py coach_ask --jsonl`` on both sets before relying on it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from campus import ai
from campus.search import words_of
from coach.exemplars import OFF_TOPIC, ON_TOPIC

#: Library similarity around which on-topic and off-topic questions part (see above).
LIBRARY_PIVOT = 0.845
#: ``library - LIBRARY_PIVOT + margin`` below this: the question is off-topic.
TOPIC_THRESHOLD = 0.015
#: A management question whose closest practice is below this similarity, or below
#: ``WEAK_LIBRARY`` with no content word in common with it, has no relevant practice.
#: On coach_dev the closest practice is always ≥ 0.863, off-topic ones ≤ 0.844.
NOTHING_BELOW = 0.835
WEAK_LIBRARY = 0.865
#: Cited practices: those whose similarity is within this distance of the best one.
CLOSE_TO_BEST = 0.035
NEIGHBOURS = 3

# Words too common to count as an overlap between a question and a practice.
_STOP_WORDS = """les des une uns est sont pas par pour dans sur avec que qui quoi quel quelle quels
    quelles comment faire fait mon mes ton tes son ses nos vos leur leurs elle elles ils lui
    cette ces cet aux plus moins tres tout tous toute toutes sans sous mais donc car quand
    comme aussi alors avoir etre suis ete peux peut veux doit dois entre vers chez apres avant
    quoi dont ainsi encore deja bien mal moi toi nous vous autre autres meme memes cela celle
    celui ceux quelque quelques chaque faut savoir"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

_lock = threading.Lock()
_exemplars: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _exemplar_vectors() -> tuple[np.ndarray, np.ndarray]:
    """The exemplars' embeddings, computed once per process and embedding model (~3 s)."""
    model = ai.embedding_model_id()
    with _lock:
        if model not in _exemplars:
            vectors = np.asarray(ai.embed([*ON_TOPIC, *OFF_TOPIC], kind="query"), dtype=np.float32)
            _exemplars[model] = (vectors[: len(ON_TOPIC)], vectors[len(ON_TOPIC) :])
        return _exemplars[model]


def warm_up() -> None:
    _exemplar_vectors()


@dataclass(frozen=True)
class Relevance:
    library: float  # similarity of the closest retrieved practice (0 when none)
    margin: float  # on-topic minus off-topic neighbours
    overlap: bool  # the closest practices share a content word with the question

    @property
    def score(self) -> float:
        return self.library - LIBRARY_PIVOT + self.margin

    @property
    def on_topic(self) -> bool:
        return self.score >= TOPIC_THRESHOLD

    @property
    def found(self) -> bool:
        if self.library < NOTHING_BELOW:
            return False
        return self.library >= WEAK_LIBRARY or self.overlap


def content_words(text: str) -> set[str]:
    """Stems (five letters, accents folded) of the words that carry meaning."""
    return {w[:5] for w in words_of([text]) if w not in STOP_WORDS and not w.isdigit()}


def relevance_of(
    question: str,
    query_vector: Sequence[float],
    *,
    library: float,
    practice_texts: Sequence[str],
) -> Relevance:
    on, off = _exemplar_vectors()
    vector = np.asarray(query_vector, dtype=np.float32)
    on_sim = np.sort(on @ vector)[-NEIGHBOURS:].mean()
    off_sim = np.sort(off @ vector)[-NEIGHBOURS:].mean()
    question_words = content_words(question)
    overlap = any(question_words & content_words(text) for text in practice_texts)
    return Relevance(library=library, margin=float(on_sim - off_sim), overlap=overlap)

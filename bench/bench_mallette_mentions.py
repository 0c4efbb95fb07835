"""Calibrate the "most evoked" thresholds of ``mallette.mentions`` on real data.

Embeds the 416 editorial practices (as the index does: title, summary, situation, passage
embeddings) and the questions of ``../shared/eval/coach_dev.jsonl`` (on-topic, labelled with
themes) and ``offtopic_dev.jsonl`` (query embeddings), then prints:

- the best cosine of each on-topic and off-topic question against the corpus, and whether
  the practices above a candidate threshold share a theme with the question's labels;
- the cosine between pairs of questions (query vs query): same theme vs different themes,
  for the clustering of unmatched texts.

``CAMPUS_DATA_DIR=/tmp/x .venv/bin/python bench/bench_mallette_mentions.py``
No database needed: the corpus is read from ``mallette/corpus/*.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
os.environ.setdefault("CAMPUS_DEV", "1")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from campus import ai  # noqa: E402
from mallette.corpus import practices_data  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"


def _load(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line.strip()]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    corpus = practices_data()
    texts = [
        "\n".join(p for p in (c["title"], c["summary"], c.get("situation", "")) if p)
        for c in corpus
    ]
    themes = [set(c["themes"]) for c in corpus]
    P = np.array(ai.embed(texts, kind="passage"))
    on = _load("coach_dev.jsonl")
    off = _load("offtopic_dev.jsonl")
    Q_on = np.array(ai.embed([q["question"] for q in on], kind="query"))
    Q_off = np.array(ai.embed([q["question"] for q in off], kind="query"))
    S_on, S_off = Q_on @ P.T, Q_off @ P.T
    best_on, best_off = S_on.max(axis=1), S_off.max(axis=1)
    print(f"corpus {len(corpus)} practices; {len(on)} on-topic, {len(off)} off-topic questions")
    print(
        f"on-topic best: min {best_on.min():.3f} p5 {pct(best_on, 5):.3f} p25 {pct(best_on, 25):.3f} median {np.median(best_on):.3f} max {best_on.max():.3f}"
    )
    print(
        f"off-topic best: min {best_off.min():.3f} median {np.median(best_off):.3f} max {best_off.max():.3f}"
    )
    print("threshold | on-topic matched | off-topic matched | mentions/question | on-theme share")
    for t in np.arange(0.80, 0.90, 0.005):
        matched_on = int((best_on >= t).sum())
        matched_off = int((best_off >= t).sum())
        per_q, good, total = [], 0, 0
        for i, q in enumerate(on):
            idx = np.where(S_on[i] >= t)[0]
            per_q.append(len(idx))
            for j in idx:
                total += 1
                good += bool(themes[j] & set(q["themes"]))
        share = good / total if total else float("nan")
        print(
            f"  {t:.3f}   | {matched_on:2d}/{len(on)} | {matched_off}/{len(off)} | "
            f"{statistics.mean(per_q):5.1f} | {share:.2f}"
        )
    print("with top-k and margin to the best (the rule of mallette.mentions.matches_kept):")
    for t in (0.87, 0.875, 0.88, 0.885, 0.89, 0.895, 0.90):
        for k, margin in ((1, 1.0), (3, 0.01), (3, 0.02), (3, 1.0)):
            good = total = covered = 0
            for i, q in enumerate(on):
                order = np.argsort(-S_on[i])
                best = S_on[i][order[0]]
                kept = [j for j in order[:k] if S_on[i][j] >= t and S_on[i][j] >= best - margin]
                covered += bool(kept)
                total += len(kept)
                good += sum(bool(themes[j] & set(q["themes"])) for j in kept)
            share = good / total if total else 0.0
            print(
                f"  T={t:.3f} top={k} margin={margin:.2f}: {covered}/{len(on)} matched, "
                f"{total} mentions, {share:.2f} on theme"
            )
    # Query-vs-query pairs for clustering unmatched texts.
    Q = Q_on
    same, diff = [], []
    for i in range(len(on)):
        for j in range(i + 1, len(on)):
            s = float(Q[i] @ Q[j])
            (same if set(on[i]["themes"]) & set(on[j]["themes"]) else diff).append(s)
    off_pairs = [
        float(Q_off[i] @ Q_off[j]) for i in range(len(off)) for j in range(i + 1, len(off))
    ]
    print(
        f"question pairs, same theme: median {np.median(same):.3f} p90 {pct(same, 90):.3f} max {max(same):.3f}"
    )
    print(
        f"question pairs, different themes: median {np.median(diff):.3f} p90 {pct(diff, 90):.3f} p99 {pct(diff, 99):.3f} max {max(diff):.3f}"
    )
    print(f"off-topic pairs: median {np.median(off_pairs):.3f} max {max(off_pairs):.3f}")
    for label, a, b in [
        (
            "paraphrase",
            "Comment gérer le stress de mon équipe pendant la fermeture de l'accueil ?",
            "Mon équipe est stressée par la fermeture de l'accueil, que faire ?",
        ),
        (
            "paraphrase",
            "Comment organiser le planning des congés d'été de mes agents ?",
            "Quelle méthode pour planifier les congés d'été de l'équipe ?",
        ),
        (
            "unrelated",
            "Comment organiser le planning des congés d'été de mes agents ?",
            "Mon équipe est stressée par la fermeture de l'accueil, que faire ?",
        ),
    ]:
        va, vb = ai.embed([a, b], kind="query")
        print(f"{label}: {float(np.dot(va, vb)):.3f}")


if __name__ == "__main__":
    main()

"""Which unlabelled emails to label next: every row's top-k and uncertainty, and a ranking that favours rows the
model is torn about, rows that look like rare labels, and skips near-duplicates of rows already picked.

Plain numpy over a probability matrix (the model is the caller's business, as in cleanlab): the score job passes the
published model's probabilities, perf/labelling.py the quick n-gram model's. The mix (RARE_BOOST,
DUPLICATE_SIMILARITY) is the one perf/labelling.py measured best on the dev set; README has the table.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# score = uncertainty * (1 + RARE_BOOST * rarity) / (1 + RARE_BOOST). Measured (9 seeds, 300 + 3 x 100 rows, the
# one-SVM quick model): macro-F1 0.847 at boost 1 against 0.827 at 0 and 0.843 at 3; margin 0.825, random 0.784.
RARE_BOOST = 1.0
DUPLICATE_SIMILARITY = 0.8  # word TF-IDF cosine at or above which a row repeats one already picked
BLOCK = 256  # candidates compared at once against the rows picked so far


@dataclass(frozen=True)
class ScoredRow:
    index: int
    label: str  # predicted
    probability: float
    top: list[tuple[str, float]]  # top-k (label, probability), best first
    uncertainty: float  # 1 - (p_top1 - p_top2): 0 sure .. 1 torn


def uncertainties(probabilities: np.ndarray) -> np.ndarray:
    """1 - margin between the two most probable labels, per row (margin sampling's measure, as a score)."""
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.shape[1] < 2:
        return np.zeros(len(probs))
    top2 = np.sort(probs, axis=1)[:, -2:]
    return np.clip(1.0 - (top2[:, 1] - top2[:, 0]), 0.0, 1.0)


def scored_rows(probabilities: np.ndarray, labels: Sequence[str], top_k: int = 3) -> list[ScoredRow]:
    probs = _checked(probabilities, labels)
    order = np.argsort(-probs, axis=1, kind="stable")[:, : max(1, top_k)]
    uncertain = uncertainties(probs)
    rows = []
    for i, columns in enumerate(order):
        top = [(labels[j], round(float(probs[i, j]), 6)) for j in columns]
        rows.append(ScoredRow(i, top[0][0], top[0][1], top, round(float(uncertain[i]), 6)))
    return rows


def label_next_order(probabilities: np.ndarray, labels: Sequence[str], texts: Sequence[str], *,
                     candidates: Sequence[int], limit: int, label_counts: Mapping[str, int] | None = None,
                     rare_boost: float = RARE_BOOST,
                     duplicate_similarity: float | None = DUPLICATE_SIMILARITY) -> list[tuple[int, float]]:  # fmt: skip
    """(index, score in [0, 1]) best first, among `candidates`, at most `limit`. `label_counts` are the labelled
    rows per label (default: the predicted labels of every row, an inbox's own mix); a label with fewer rows counts
    as rarer. `duplicate_similarity=None` keeps near-duplicates."""
    probs = _checked(probabilities, labels)
    if len(texts) != len(probs):
        raise ValueError(f"{len(texts)} texts for {len(probs)} rows of probabilities")
    candidates = np.asarray(list(candidates), dtype=int)
    if candidates.size and (candidates.min() < 0 or candidates.max() >= len(probs)):
        raise ValueError(f"candidate indices must lie in 0..{len(probs) - 1}")
    if limit <= 0 or not candidates.size:
        return []
    scores = ranking_scores(probs, labels, label_counts, rare_boost)[candidates]
    ranked = candidates[np.argsort(-scores, kind="stable")]
    score_of = dict(zip(candidates.tolist(), scores.tolist()))
    picked = _without_duplicates(ranked, texts, limit, duplicate_similarity)
    return [(int(i), round(float(score_of[i]), 6)) for i in picked]


def ranking_scores(probs: np.ndarray, labels: Sequence[str], label_counts: Mapping[str, int] | None,
                   rare_boost: float) -> np.ndarray:  # fmt: skip
    """Uncertainty weighted up by the row's expected rarity (its probabilities over each label's rarity)."""
    if label_counts is None:
        predicted = np.bincount(probs.argmax(1), minlength=len(labels))
        label_counts = {label: int(n) for label, n in zip(labels, predicted)}
    counts = np.array([label_counts.get(label, 0) for label in labels], dtype=np.float64)
    rarity = 1.0 - counts / counts.max() if counts.max() > 0 else np.zeros(len(labels))
    return uncertainties(probs) * (1.0 + rare_boost * (probs @ rarity)) / (1.0 + rare_boost)


def _without_duplicates(ranked: np.ndarray, texts: Sequence[str], limit: int, threshold: float | None) -> list[int]:
    """The first `limit` of `ranked` whose TF-IDF cosine to every row picked before it stays under `threshold`;
    compared block by block, so the cost grows with the rows read, not with the whole pool squared."""
    if threshold is None:
        return ranked[:limit].tolist()
    vectors = _tfidf([texts[i] for i in ranked])
    if vectors is None:  # no words at all: nothing to compare
        return ranked[:limit].tolist()
    from scipy.sparse import vstack

    picked, picked_vectors = [], None
    for start in range(0, len(ranked), BLOCK):
        block = vectors[start : start + BLOCK]
        before = (block @ picked_vectors.T).toarray() if picked_vectors is not None else None
        within, kept = (block @ block.T).toarray(), []
        for r in range(block.shape[0]):
            if before is not None and before[r].max(initial=0.0) >= threshold:
                continue
            if kept and within[r, kept].max() >= threshold:
                continue
            kept.append(r)
            picked.append(int(ranked[start + r]))
            if len(picked) >= limit:
                return picked
        if kept:
            picked_vectors = block[kept] if picked_vectors is None else vstack([picked_vectors, block[kept]]).tocsr()
    return picked


def _tfidf(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        return TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32).fit_transform(texts)
    except ValueError:  # empty vocabulary
        return None


def _checked(probabilities: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(labels):
        raise ValueError(f"probabilities must be (rows, {len(labels)} labels), got shape {probs.shape}")
    return probs

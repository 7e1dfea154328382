"""The label-next simulation of perf/labelling.py: which 100 rows to label next, three rounds, against random picks
and plain margin sampling.

A fixed test split (20 %, stratified, seed 0) is set aside; from the rest, 300 rows (stratified, the seed) start
labelled and the others are the unlabelled pool. Each round the quick n-gram model (classifiers/ngram.py) is fitted
on the labelled rows and scored (macro-F1) on the test split, then 100 pool rows are labelled: by label_next_order
over that model's probabilities (each mix in MIXES), at random, or by margin sampling with a word TF-IDF logistic
regression (the issue's plain baseline). Every arm is scored by the same quick model, so only the picks differ.
"""

import time
from collections import Counter

import numpy as np

START, ROUNDS, PER_ROUND = 300, 3, 100
RARE_SHARE = 0.06  # a label under 6 % of the file is rare here (electronics 2.5 %, motorcycles 3.4 %, crypto 5.0 %)
MIXES = {  # arm -> label_next_order's arguments that differ from the shipped default ("ranking")
    "ranking": {},
    "ranking:boost0": {"rare_boost": 0.0},
    "ranking:boost3": {"rare_boost": 3.0},
    "ranking:dedup0.5": {"duplicate_similarity": 0.5},
}


def simulate(rows, seed: int, record, arms=None) -> None:
    from sklearn.model_selection import train_test_split

    labels = sorted({r.label for r in rows})
    share = Counter(r.label for r in rows)
    rare = {label for label in labels if share[label] / len(rows) < RARE_SHARE}
    pool_all, test = train_test_split(rows, test_size=0.2, stratify=[r.label for r in rows], random_state=0)
    start, _ = train_test_split(range(len(pool_all)), train_size=START, stratify=[r.label for r in pool_all],
                                random_state=seed)  # fmt: skip
    for arm in arms or ["random", "margin", *MIXES]:
        started = time.perf_counter()
        f1s, rare_picked = _run_arm(arm, pool_all, test, list(start), labels, rare, seed)
        record({"part": "next", "row": arm, "seed": seed, "f1": f1s, "rare_picked": rare_picked,
                "picked": ROUNDS * PER_ROUND, "seconds": round(time.perf_counter() - started, 1)})  # fmt: skip


def _run_arm(arm, pool_all, test, labelled, labels, rare, seed):
    from sklearn.metrics import f1_score

    from classifiers.ngram import NgramModel

    rng, f1s, rare_picked = np.random.default_rng(seed), [], 0
    for round_ in range(ROUNDS + 1):
        train = [pool_all[i] for i in labelled]
        model = NgramModel.fit(train, [r.label for r in train], labels)
        predicted = [labels[i] for i in model.probabilities(test).argmax(-1)]
        f1s.append(round(float(f1_score([r.label for r in test], predicted, average="macro")), 4))
        if round_ == ROUNDS:
            break
        taken = set(labelled)
        pool = [i for i in range(len(pool_all)) if i not in taken]
        picks = _pick(arm, model, train, [pool_all[i] for i in pool], labels, rng)
        chosen = [pool[j] for j in picks]
        rare_picked += sum(pool_all[i].label in rare for i in chosen)
        labelled += chosen
    return f1s, rare_picked


def _pick(arm, model, train, pool, labels, rng) -> list[int]:
    """Positions in `pool` of the PER_ROUND rows this arm labels next."""
    from classifiers.label_next import label_next_order

    if arm == "random":
        return rng.choice(len(pool), size=PER_ROUND, replace=False).tolist()
    if arm == "margin":
        probs = np.sort(_word_lr(train).predict_proba([r.text for r in pool]), axis=1)
        return np.argsort(probs[:, -1] - probs[:, -2], kind="stable")[:PER_ROUND].tolist()
    order = label_next_order(model.probabilities(pool), labels, [f"{r.subject}\n{r.body}" for r in pool],
                             candidates=range(len(pool)), limit=PER_ROUND, label_counts=Counter(r.label for r in train),
                             **MIXES[arm])  # fmt: skip
    return [i for i, _ in order]


def _word_lr(train):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          LogisticRegression(class_weight="balanced", max_iter=5000))  # fmt: skip
    return model.fit([r.text for r in train], [r.label for r in train])

"""The labelling loop, measured (issue 17): label-error detection, the label-next ranking, and scoring throughput.

    .venv/bin/python perf/labelling.py [--data ../shared/data/email_dev.jsonl] [--parts errors,thorough,next,throughput]
        [--seeds 3] [--thorough-folds 5] [--thorough-epochs 5] [--out var/labelling.json]

- errors: 5 % of the labels flipped at random (seeds 0..seeds-1) to another label; audit_labels(method="quick") and a
  plain baseline (5-fold word + char TF-IDF logistic regression, cleanlab's find_label_issues ranked by
  self-confidence) in the same run: precision and recall of each top-N (N = flipped rows) against the flipped rows,
  and how many rows each flags on the unflipped file. Targets: quick >= 0.72 mean precision at N.
- thorough: audit_labels(method="thorough") once, on seed 0's flipped file (--thorough-folds/--thorough-epochs,
  printed with the result: fewer than the job's defaults on a CPU box is said there). Target: >= quick + 0.05.
- next: perf/labelling_next.py (start from 300 labelled rows, 3 rounds of 100; ranking vs random vs margin).
- throughput: emails/s of probabilities_in_batches with a published 1-epoch MiniLM against the predict engine's
  ceiling (perf/predict.py's engine_ceiling), same run.
Results are appended to --out as they come (re-read before each write, so parts may run as separate processes), and
a part already measured for a seed is skipped; the tables and targets are printed from everything in --out.
"""

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLIP_SHARE = 0.05
RANKINGS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/email_dev.jsonl")
    parser.add_argument("--parts", default="errors,thorough,next,throughput")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--thorough-folds", type=int, default=5)
    parser.add_argument("--thorough-epochs", type=int, default=5, help="the fine-tune job's default is 5")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "labelling.json", help="results, appended")
    args = parser.parse_args()
    from shared.data import read_jsonl

    rows = read_jsonl(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    if "errors" in parts:
        for seed in range(args.seeds):
            measure_errors(rows, seed, args.out)
        measure_unflipped(rows, args.out)
    if "thorough" in parts:
        measure_thorough(rows, args.thorough_folds, args.thorough_epochs, args.out)
    if "next" in parts:
        from perf.labelling_next import simulate

        for seed in range(args.seeds):
            simulate(rows, seed, lambda result: record(args.out, result))
    if "throughput" in parts:
        from perf.labelling_throughput import measure_throughput

        record(args.out, measure_throughput(args.data, rows))
    print_tables(load(args.out))


def flipped(rows, seed: int):
    """The rows with FLIP_SHARE of their labels changed to another label (uniformly), and which rows were changed."""
    rng = np.random.default_rng(seed)
    labels = sorted({r.label for r in rows})
    picked = set(rng.choice(len(rows), size=round(FLIP_SHARE * len(rows)), replace=False).tolist())
    noisy = [replace(r, label=str(rng.choice([x for x in labels if x != r.label]))) if i in picked else r
             for i, r in enumerate(rows)]  # fmt: skip
    return noisy, picked


def at_n(ranked: list[int], truth: set[int]) -> dict:
    """Precision and recall of the first N = len(truth) ranked rows (fewer when fewer are flagged)."""
    top = ranked[: len(truth)]
    hits = len(set(top) & truth)
    return {"precision": hits / max(1, len(top)), "recall": hits / max(1, len(truth)), "flagged": len(ranked),
            "n": len(truth)}  # fmt: skip


def baseline_issues(rows, seed: int) -> list[int]:
    """The issue's plain baseline: 5-fold word + char TF-IDF LR probabilities, find_label_issues by self-confidence."""
    from cleanlab.filter import find_label_issues
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline, make_union

    labels = sorted({r.label for r in rows})
    given = np.array([labels.index(r.label) for r in rows])
    model = make_pipeline(make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                     TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
                          LogisticRegression(class_weight="balanced", max_iter=5000))  # fmt: skip
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    probs = cross_val_predict(model, [r.text for r in rows], given, cv=folds, method="predict_proba")
    return find_label_issues(given, probs, return_indices_ranked_by="self_confidence", n_jobs=1).tolist()


def measure_errors(rows, seed: int, out: Path) -> None:
    """The baseline, then the quick audit's out-of-fold probabilities once, ranked by each of RANKINGS (the first is
    classifiers/label_audit.py's RANKED_BY, the row called `quick`; the others are the measured alternatives)."""
    from classifiers.label_audit import RANKED_BY, check_rows, find_issues, out_of_fold

    noisy, truth = flipped(rows, seed)
    if not done(out, "errors", "baseline", seed):
        started = time.perf_counter()
        ranked = baseline_issues(noisy, seed)
        record(out, {"part": "errors", "row": "baseline", "seed": seed, **at_n(ranked, truth),
                     "seconds": round(time.perf_counter() - started, 1)})  # fmt: skip
    if done(out, "errors", "quick", seed):
        return
    started = time.perf_counter()
    labels, given = check_rows(noisy, 5)
    probs = out_of_fold(noisy, given, labels, method="quick", folds=5, seed=seed)
    seconds = round(time.perf_counter() - started, 1)
    for ranking in (RANKED_BY, *(r for r in RANKINGS if r != RANKED_BY)):
        ranked = [i.index for i in find_issues(given, probs, labels, ranked_by=ranking)]
        name = "quick" if ranking == RANKED_BY else f"quick:{ranking}"
        record(out, {"part": "errors", "row": name, "seed": seed, **at_n(ranked, truth), "seconds": seconds})


def measure_unflipped(rows, out: Path) -> None:
    from classifiers.label_audit import audit_labels

    for name, find in (("baseline", lambda: baseline_issues(rows, 0)),
                       ("quick", lambda: [i.index for i in audit_labels(rows, method="quick", seed=0).issues])):
        if not done(out, "unflipped", name, 0):
            record(out, {"part": "unflipped", "row": name, "seed": 0, "flagged": len(find())})


def measure_thorough(rows, folds: int, epochs: int, out: Path) -> None:
    """Like the quick rows: the out-of-fold probabilities once (kept beside --out), ranked by each of RANKINGS."""
    from classifiers.label_audit import RANKED_BY, check_rows, find_issues, out_of_fold

    if done(out, "errors", "thorough", 0):
        return
    noisy, truth = flipped(rows, 0)

    def emit(type_, message, **_):
        if type_ in ("eval", "warning", "log"):
            print(f"  [thorough] {message}", flush=True)

    started = time.perf_counter()
    labels, given = check_rows(noisy, folds)
    probs = out_of_fold(noisy, given, labels, method="thorough", folds=folds, seed=0, emit=emit, epochs=epochs)
    np.save(out.with_name("labelling-thorough-probs.npy"), probs)
    seconds = round(time.perf_counter() - started, 1)
    for ranking in (RANKED_BY, *(r for r in RANKINGS if r != RANKED_BY)):
        ranked = [i.index for i in find_issues(given, probs, labels, ranked_by=ranking)]
        name = "thorough" if ranking == RANKED_BY else f"thorough:{ranking}"
        record(out, {"part": "errors", "row": name, "seed": 0, **at_n(ranked, truth), "folds": folds,
                     "epochs": epochs, "seconds": seconds})  # fmt: skip


def load(out: Path) -> list[dict]:
    return json.loads(out.read_text()) if out.is_file() else []


def done(out: Path, part: str, row: str, seed: int) -> bool:
    return any(r["part"] == part and r["row"] == row and r["seed"] == seed for r in load(out))


def record(out: Path, result: dict) -> None:
    results = load(out) + [result]
    out.write_text(json.dumps(results, indent=1))
    print(json.dumps(result), flush=True)


def print_tables(results: list[dict]) -> None:
    from perf.labelling_tables import print_errors, print_next, print_throughput

    print_errors(results)
    print_next(results)
    print_throughput(results)


if __name__ == "__main__":
    main()

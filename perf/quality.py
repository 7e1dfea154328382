"""Quality: the default recipe (transformer + n-gram ensemble) against classical models and the transformer alone,
scored on a fixed outer test split that no training and no choice (epoch, weight, recipe) ever saw.

    .venv/bin/python perf/quality.py --data ../shared/data/email_dev.jsonl [--sizes full,500] [--seeds 3]
        [--recipes default,transformer,read2,transformer_read2,refit,epochs10] [--out var/quality.json]

For each size (the whole file, and a stratified subsample of 500 rows: the seed's scale), 20 % of the rows are set
aside (stratified, seed 0) as the outer test split. The classical models are fitted on the other 80 %; each service
recipe runs the real training pipeline on those 80 % with inner split seeds 0..seeds-1 (the service then splits
them again into train and validation by itself). Prints macro-F1 mean and spread (min-max over seeds) on the outer
test split with the training seconds of each, then the issue's targets. Results are appended to --out as they come,
so an interrupted run keeps what it measured.
"""

import argparse
import json
from dataclasses import replace
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECIPES = {  # name -> hyperparameters and epochs of a service job
    "default": ({}, 5),
    "transformer": ({"ensemble": False}, 5),
    "read2": ({"read_windows": 2}, 5),  # the ensemble with the transformer reading two windows of a long email
    "transformer_read2": ({"ensemble": False, "read_windows": 2}, 5),
    "refit": ({"refit_full": True}, 5),
    "epochs10": ({}, 10),
}
ROW_NAMES = {"word_lr": "TF-IDF word 1-2 + LR", "wordchar_lr": "TF-IDF word + char 2-5 + LR",
             "linear_svm": "word + char + linear SVM", "wordchar_lr_long": "word + char + LR, 3,000 body chars",
             "linear_svm_long": "word + char + linear SVM, 3,000 body chars",
             "ngram_part": "the ensemble's n-gram model alone",
             "default": "default recipe (ensemble, 5 epochs)", "default:transformer_part": "  its transformer part",
             "transformer": "transformer alone (--no-ensemble)", "refit": "ensemble refit on all rows",
             "read2": "ensemble, transformer reading 2 windows", "read2:transformer_part": "  its transformer part",
             "transformer_read2": "transformer alone reading 2 windows",
             "epochs10": "ensemble, 10 epochs"}  # fmt: skip

CLASSICAL = ("word_lr", "wordchar_lr", "linear_svm", "wordchar_lr_long", "linear_svm_long", "ngram_part")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/email_dev.jsonl")
    parser.add_argument("--sizes", default="500,full")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--recipes", default="default,transformer,refit")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "quality.json", help="results, appended as they come")
    args = parser.parse_args()
    from shared.data import read_jsonl

    rows = read_jsonl(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.out.read_text()) if args.out.is_file() else []
    for size in args.sizes.split(","):
        subset = rows if size == "full" else _stratified(rows, int(size), seed=0)
        train, test = _outer_split(subset)
        print(f"\n== {size}: {len(subset)} rows, outer test {len(test)}, training rows {len(train)}", flush=True)
        for name, (f1, seconds) in _classical(train, test).items():
            _record(results, args.out, size, name, 0, f1, seconds)
        for recipe in args.recipes.split(","):
            for seed in range(args.seeds):
                if any(r["size"] == size and r["row"] == recipe and r["seed"] == seed for r in results):
                    continue  # measured by an earlier, interrupted run
                for name, f1, seconds in _service(recipe, train, test, seed):
                    _record(results, args.out, size, name, seed, f1, seconds)
        _print_table(results, size)


def _stratified(rows, n, seed):
    from sklearn.model_selection import train_test_split

    picked, _ = train_test_split(rows, train_size=n, stratify=[r.label for r in rows], random_state=seed)
    return picked


def _outer_split(rows):
    from sklearn.model_selection import train_test_split

    return train_test_split(rows, test_size=0.2, stratify=[r.label for r in rows], random_state=0)


def _f1(truth, predicted) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, average="macro"))


def _classical(train, test) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    from classifiers.ngram import NgramModel, ngram_text

    def words():
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)

    def chars():
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)

    models = {
        "word_lr": lambda: make_pipeline(words(), LogisticRegression(class_weight="balanced", max_iter=5000)),
        "wordchar_lr": lambda: make_pipeline(make_union(words(), chars()),
                                             LogisticRegression(class_weight="balanced", max_iter=5000)),
        "linear_svm": lambda: make_pipeline(make_union(words(), chars()), LinearSVC(class_weight="balanced")),
    }  # fmt: skip
    # Each on the transformer's text (subject + 400 body chars) and, for the two strongest, on the n-gram model's
    # (3,000 chars): a user's one-second baseline reads the whole email, so that is the bar to beat.
    short = lambda rows: [r.text for r in rows]  # noqa: E731
    long = lambda rows: [ngram_text(r.subject, r.body) for r in rows]  # noqa: E731
    runs = [(name, make, short) for name, make in models.items()]
    runs += [(f"{name}_long", models[name], long) for name in ("wordchar_lr", "linear_svm")]
    truth, found = [r.label for r in test], {}
    for name, make, texts in runs:
        started, model = time.perf_counter(), make()
        model.fit(texts(train), [r.label for r in train])
        found[name] = (_f1(truth, model.predict(texts(test))), time.perf_counter() - started)
    labels = sorted({r.label for r in train})
    started = time.perf_counter()
    ngram = NgramModel.fit(train, [r.label for r in train], labels)
    predicted = [labels[i] for i in ngram.probabilities(test).argmax(-1)]
    found["ngram_part"] = (_f1(truth, predicted), time.perf_counter() - started)
    return found


def _service(recipe, train, test, seed):
    """Train one job of `recipe` on `train` through the real pipeline; its scores on `test`."""
    from classifiers.fine_tuned import FineTunedAdapter
    from shared.job_schema import FinetuneParams
    from worker.training.pipeline import TrainConfig, run_finetune

    hyper, epochs = RECIPES[recipe]
    labels = sorted({r.label for r in train})
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.jsonl"
        data.write_text("".join(json.dumps({"subject": r.subject, "body": r.body, "label": r.label}) + "\n"
                                for r in train))  # fmt: skip
        params = FinetuneParams(epochs=epochs, name="q", hyperparameters={**hyper, "promote": "always"})
        config = TrainConfig.from_params(params, data=data, labels=labels, models_dir=Path(tmp) / "models")
        config = replace(config, split_seed=seed)
        started = time.perf_counter()
        info = run_finetune(config, lambda type_, message, **_: type_ in ("eval", "warning") and print(
            f"  [{recipe} seed {seed}] {message}", flush=True))  # fmt: skip
        seconds = time.perf_counter() - started
        adapter = FineTunedAdapter(info["model_dir"], precision="fp32")
        truth, pairs = [r.label for r in test], [(r.subject, r.body) for r in test]
        found = [(recipe, _f1(truth, adapter.classify_batch(pairs)), seconds)]
        if recipe in ("default", "read2"):
            alone = [adapter.labels[i] for i in adapter.logits(pairs).argmax(-1).tolist()]
            found.append((f"{recipe}:transformer_part", _f1(truth, alone), seconds))
        print(f"  [{recipe} seed {seed}] reported {info['val_macro_f1']:.3f} {info['val_macro_f1_interval']}, "
              f"weight {info['ensemble']['transformer_weight']}, best epoch {info['best_epoch']}, outer test "
              f"{found[0][1]:.3f}, {seconds:.0f} s", flush=True)  # fmt: skip
        return found


def _record(results, out: Path, size, row, seed, f1, seconds) -> None:
    results.append({"size": size, "row": row, "seed": seed, "macro_f1": round(f1, 4), "seconds": round(seconds, 1)})
    out.write_text(json.dumps(results, indent=1) + "\n")


def _print_table(results, size) -> None:
    rows = {}
    for r in results:
        if r["size"] == size:
            rows.setdefault(r["row"], []).append(r)
    print(f"\n{'classifier (' + size + ')':44} {'macro-F1':>8} {'spread':>13} {'seconds':>8} {'runs':>4}")
    for name, found in rows.items():
        scores = [r["macro_f1"] for r in found]
        print(f"{ROW_NAMES.get(name, name):44} {statistics.mean(scores):8.3f} {min(scores):6.3f}-{max(scores):.3f} "
              f"{statistics.mean(r['seconds'] for r in found):8.0f} {len(found):4}")
    mean = {name: statistics.mean(r["macro_f1"] for r in found) for name, found in rows.items()}
    classical = max((v, k) for k, v in mean.items() if k in CLASSICAL)
    if "default" in mean:
        print(f"default minus best classical ({ROW_NAMES[classical[1]]}): {mean['default'] - classical[0]:+.3f} "
              f"(target >= +0.05)")
    if "default" in mean and "transformer" in mean:
        print(f"default minus transformer alone: {mean['default'] - mean['transformer']:+.3f} (target >= -0.005)")
        seconds = {k: statistics.mean(r["seconds"] for r in rows[k]) for k in ("default", "transformer")}
        print(f"training time default / transformer alone: {seconds['default'] / seconds['transformer']:.2f}x "
              f"(target <= 1.2x)")


if __name__ == "__main__":
    main()

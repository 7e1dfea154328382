"""Training throughput: the naive recipe (a), HF's example-script default (b) and ours (c), same rows, same model.

    python bench/train_throughput.py --data ../shared/data/email_dev.jsonl [--limit 500] [--model minilm]

Each variant runs in its own process (so peak RSS is its own), 1 epoch, batch 16, same stratified sample and split.
(a) HF Trainer, padding="max_length", max_length=512; (b) the same at max_length=128; (c) worker.training as shipped.
Prints samples/s (training loop incl. the epoch's evaluation), peak memory and val macro-F1, then c/a and c/b.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def stratified_sample(path: Path, limit: int, seed: int = 42) -> list[str]:
    by_label = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            by_label[json.loads(line)["label"]].append(line)
    total = sum(len(v) for v in by_label.values())
    rng, picked = random.Random(seed), []
    for lines in by_label.values():
        picked += rng.sample(lines, max(2, round(limit * len(lines) / total)))
    rng.shuffle(picked)
    return picked


def run_baseline(data: Path, labels: list[str], model_key: str, max_length: int) -> dict:
    """(a)/(b): the textbook recipe, everything padded to max_length, plain Trainer."""
    import numpy as np
    from transformers import Trainer, TrainingArguments

    from shared.data import load_examples, split_examples
    from shared.registry import get_spec
    from worker.training.metrics import classification_report
    from worker.training.model_loading import load_tokenizer_and_model

    loaded = load_examples(data, labels)
    train, val, _ = split_examples(loaded.examples)
    tokenizer, model = load_tokenizer_and_model(get_spec(model_key), loaded.labels, allow_downloads=False)
    label2id = {label: i for i, label in enumerate(loaded.labels)}

    def encode(rows):
        enc = tokenizer([r.text for r in rows], padding="max_length", truncation=True, max_length=max_length)
        return [{**{k: v[i] for k, v in enc.items()}, "labels": label2id[r.label]} for i, r in enumerate(rows)]

    def metrics(p):
        report = classification_report(
            [loaded.labels[i] for i in p.label_ids], [loaded.labels[i] for i in np.argmax(p.predictions, -1)], loaded.labels
        )
        return {"macro_f1": report["macro_f1"]}

    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(), num_train_epochs=1, per_device_train_batch_size=16,
        per_device_eval_batch_size=64, learning_rate=get_spec(model_key).learning_rate or 2e-5, warmup_steps=0.1,
        eval_strategy="epoch", save_strategy="no", report_to="none", disable_tqdm=True, seed=42,
    )
    trainer = Trainer(model=model, args=args, train_dataset=encode(train), eval_dataset=encode(val), compute_metrics=metrics)
    loop = trainer.train().metrics
    return {"samples_per_s": loop["train_samples_per_second"], "macro_f1": trainer.evaluate()["eval_macro_f1"]}


def run_ours(data: Path, labels: list[str], model_key: str) -> dict:
    from worker.training.pipeline import TrainConfig, run_finetune

    with tempfile.TemporaryDirectory() as models_dir:
        config = TrainConfig(model=model_key, data=data, labels=labels, models_dir=Path(models_dir), epochs=1)
        info = run_finetune(config, lambda *a, **k: None)
    return {"samples_per_s": info["train_samples_per_second"], "macro_f1": info["val_macro_f1"]}


def child(variant: str, data: Path, labels: list[str], model_key: str) -> None:
    if variant == "c":
        result = run_ours(data, labels, model_key)
    else:
        result = run_baseline(data, labels, model_key, 512 if variant == "a" else 128)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/email_dev.jsonl")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--variants", default="a,b,c")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        labels = sorted({json.loads(line)["label"] for line in args.data.read_text().splitlines() if line.strip()})
        return child(args.child, args.data, labels, args.model)
    lines = stratified_sample(args.data, args.limit)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    results = {}
    for variant in args.variants.split(","):
        cmd = [sys.executable, __file__, "--child", variant, "--data", handle.name, "--model", args.model]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        found = [l for l in out.stdout.splitlines() if l.startswith("RESULT ")]
        if not found:
            sys.exit(f"variant {variant} failed:\n{out.stderr[-3000:]}")
        results[variant] = json.loads(found[-1][7:])
        r = results[variant]
        print(f"({variant}) {r['samples_per_s']:.2f} samples/s  peak {r['peak_mb']:.0f} MB  val macro-F1 {r['macro_f1']:.3f}", flush=True)
    os.unlink(handle.name)
    if {"a", "c"} <= results.keys():
        print(f"c/a speed {results['c']['samples_per_s'] / results['a']['samples_per_s']:.2f}x")
    if {"b", "c"} <= results.keys():
        print(f"c/b speed {results['c']['samples_per_s'] / results['b']['samples_per_s']:.2f}x, "
              f"memory c/b {results['c']['peak_mb'] / results['b']['peak_mb']:.2f}")


if __name__ == "__main__":
    main()

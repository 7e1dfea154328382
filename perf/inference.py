"""Inference speed: FineTunedAdapter.classify_batch against a transformers pipeline called once per email.

    python bench/inference.py --data ../shared/data/email_dev.jsonl [--rows 240] [--model-dir models/avocet-minilm]

Same fine-tuned MiniLM and the same rows for both; prints ms/email, the speed ratio and how often the labels agree.
Without --model-dir it first fine-tunes minilm for 1 epoch on a 400-row stratified sample (a few minutes on CPU).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.train_throughput import stratified_sample  # noqa: E402


def quick_model(data: Path, models_dir: Path) -> Path:
    from shared.job_schema import FinetuneParams
    from worker.training.pipeline import TrainConfig, run_finetune

    lines = stratified_sample(data, 400)
    sample = models_dir / "sample.jsonl"
    sample.write_text("\n".join(lines) + "\n")
    labels = sorted({json.loads(line)["label"] for line in lines})
    params = FinetuneParams(model="minilm", epochs=1, name="bench")
    config = TrainConfig.from_params(params, data=sample, labels=labels, models_dir=models_dir)
    return Path(run_finetune(config, lambda *a, **k: None)["model_dir"])


def timed(fn, rows) -> tuple[list[str], float]:
    fn(rows[:8])  # warm-up: first-call allocations are not what we measure
    started = time.perf_counter()
    labels = fn(rows)
    return labels, 1000 * (time.perf_counter() - started) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/email_dev.jsonl")
    parser.add_argument("--rows", type=int, default=240)
    parser.add_argument("--model-dir", type=Path)
    args = parser.parse_args()

    from transformers import pipeline

    from shared.data import model_text
    from classifiers.fine_tuned import FineTunedAdapter

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model_dir or quick_model(args.data, Path(tmp))
        rows = [json.loads(line) for line in args.data.read_text().splitlines()[-args.rows :]]
        classifier = pipeline("text-classification", model=str(model_dir), device="cpu")
        max_length = FineTunedAdapter(model_dir, precision="fp32").max_length

        def per_email(batch):
            return [classifier(model_text(r["subject"], r["body"]), truncation=True, max_length=max_length)[0]["label"] for r in batch]

        reference, pipeline_ms = timed(per_email, rows)
        print(f"pipeline, one call per email: {pipeline_ms:.1f} ms/email ({len(rows)} rows)")
        for precision in ("auto", "fp32", "bf16"):
            adapter = FineTunedAdapter(model_dir, precision=precision)
            labels, ms = timed(adapter.classify_batch, rows)
            agree = sum(a == b for a, b in zip(labels, reference)) / len(rows)
            dtype = str(next(adapter.model.parameters()).dtype).removeprefix("torch.")
            print(f"adapter precision={precision} ({dtype}): {ms:.1f} ms/email, {pipeline_ms / ms:.2f}x the pipeline, "
                  f"same label on {agree:.1%} of rows; model load {adapter.load_seconds:.2f} s")


if __name__ == "__main__":
    main()

"""Training throughput: the naive recipe (a), HF's example-script default (b) and ours (c), same rows, same model.

    python perf/train_throughput.py [--data FILE] [--limit 500] [--model minilm|random:bge-m3|random:minilm|DIR]

Runs on the CPU, or on CUDA when there is one. Each variant runs in its own process (so peak memory is its own),
1 epoch, batch 16, same stratified sample and split. (a) HF Trainer, padding="max_length", max_length=512, fp32;
(b) the same at max_length=128 (run_classification.py's defaults); (c) worker.training as shipped (dynamic padding,
96 tokens, frozen word embeddings, bf16 + memory plan on CUDA). `random:<size>` builds a random model of a registry
size first (perf/random_models.py): speed and memory need no trained weights.
Per variant: samples/s and tokens/s of the training steps (evaluation time taken out; tokens are real, unpadded
ones), peak memory (CUDA: torch.cuda.max_memory_allocated, CPU: max RSS), and on CUDA the MFU: model FLOPs of those
tokens (6 x matmul parameters + attention) over the card's dense bf16 peak. Then c/a, c/b; last a RESULTS json line.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# dense bf16 peak, TFLOPS, by a piece of torch.cuda.get_device_name(); first match wins
BF16_PEAK = [("H100 PCIe", 756), ("H100 NVL", 835), ("H100", 989), ("H200", 989), ("GH200", 989), ("A100", 312),
             ("L40S", 362), ("L4", 121), ("A10", 125), ("4090", 165), ("3090", 71)]  # fmt: skip
_EVAL_SECONDS = [0.0]


def default_data() -> Path:
    for path in (ROOT.parent / "shared/data/email_dev.jsonl", ROOT / "data/email_dev.jsonl"):
        if path.is_file():
            return path
    return ROOT / "data/email_score.jsonl.example"


def stratified_sample(path: Path, limit: int, seed: int = 42) -> list[str]:
    by_label = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            by_label[json.loads(line)["label"]].append(line)
    total = sum(len(v) for v in by_label.values())
    rng, picked = random.Random(seed), []
    for lines in by_label.values():
        picked += rng.sample(lines, min(len(lines), max(2, round(limit * len(lines) / total))))
    rng.shuffle(picked)
    return picked


def _time_evaluation() -> None:
    """Take evaluation out of the training time: Trainer.evaluate adds its own seconds to _EVAL_SECONDS."""
    from transformers import Trainer

    evaluate = Trainer.evaluate

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return evaluate(self, *args, **kwargs)
        finally:
            _EVAL_SECONDS[0] += time.perf_counter() - started

    Trainer.evaluate = timed


def run_baseline(data: Path, labels: list[str], model: str, max_length: int) -> dict:
    """(a)/(b): the textbook recipe, everything padded to max_length, plain Trainer, fp32."""
    from transformers import Trainer, TrainingArguments

    from shared.data import load_examples, split_examples
    from shared.registry import get_spec
    from worker.training.model_loading import load_tokenizer_and_model

    loaded = load_examples(data, labels)
    train, val, _ = split_examples(loaded.examples)
    tokenizer, net = load_tokenizer_and_model(get_spec(model), loaded.labels, allow_downloads=False)
    label2id = {label: i for i, label in enumerate(loaded.labels)}

    def encode(rows):
        enc = tokenizer([r.text for r in rows], padding="max_length", truncation=True, max_length=max_length)
        return [{**{k: v[i] for k, v in enc.items()}, "labels": label2id[r.label]} for i, r in enumerate(rows)]

    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(), num_train_epochs=1, per_device_train_batch_size=16,
        per_device_eval_batch_size=64, learning_rate=get_spec(model).learning_rate or 2e-5,
        eval_strategy="epoch", save_strategy="no", report_to="none", disable_tqdm=True, seed=42,
    )  # fmt: skip
    trainer = Trainer(model=net, args=args, train_dataset=encode(train), eval_dataset=encode(val))
    loop = trainer.train().metrics
    return {"train_seconds": loop["train_runtime"] - _EVAL_SECONDS[0], "rows": len(train),
            "tokens": _real_tokens(tokenizer, train, max_length), **_flops(net)}  # fmt: skip


def run_ours(data: Path, labels: list[str], model: str) -> dict:
    from shared.data import load_examples, split_examples
    from shared.job_schema import FinetuneParams
    from worker.training.pipeline import TrainConfig, run_finetune

    with tempfile.TemporaryDirectory() as models_dir:
        config = TrainConfig.from_params(FinetuneParams(model=model, epochs=1), data=data, labels=labels,
                                         models_dir=Path(models_dir))  # fmt: skip
        info = run_finetune(config, lambda *a, **k: None)
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(info["model_dir"])
        net = AutoModelForSequenceClassification.from_pretrained(info["model_dir"])
    train, _, _ = split_examples(load_examples(data, labels).examples)
    return {"train_seconds": info["train_loop_seconds"] - _EVAL_SECONDS[0], "rows": len(train),
            "tokens": _real_tokens(tokenizer, train, config.max_length), **_flops(net)}  # fmt: skip


def _real_tokens(tokenizer, rows, max_length: int) -> int:
    encoded = tokenizer([r.text for r in rows], truncation=True, max_length=max_length)["input_ids"]
    return sum(len(ids) for ids in encoded)


def _flops(net) -> dict:
    """Per-token model FLOPs terms: 6 x parameters in matmuls (fwd + bwd), 12 x layers x hidden x seq (attention)."""
    import torch

    matmul = sum(m.weight.numel() for m in net.modules() if isinstance(m, torch.nn.Linear))
    return {"matmul_params": matmul, "layers": net.config.num_hidden_layers, "hidden": net.config.hidden_size}


def child(variant: str, data: Path, labels: list[str], model: str) -> None:
    import torch

    _time_evaluation()
    if variant == "c":
        result = run_ours(data, labels, model)
    else:
        result = run_baseline(data, labels, model, 512 if variant == "a" else 128)
    if torch.cuda.is_available():
        result["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        result["device"] = torch.cuda.get_device_name(0)
    else:
        result["peak_mb"], result["device"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu"
    print("RESULT " + json.dumps(result), flush=True)


def summarise(r: dict, peak_tflops: float | None) -> dict:
    seconds = max(r["train_seconds"], 1e-9)
    out = {"samples_per_s": r["rows"] / seconds, "tokens_per_s": r["tokens"] / seconds, "peak_mb": r["peak_mb"]}
    seq = r["tokens"] / max(1, r["rows"])
    flops_per_token = 6 * r["matmul_params"] + 12 * r["layers"] * r["hidden"] * seq
    out["mfu"] = out["tokens_per_s"] * flops_per_token / (peak_tflops * 1e12) if peak_tflops else None
    return out


def card_peak(device: str, override: float | None) -> float | None:
    if override or device == "cpu":
        return override
    return next((tflops for name, tflops in BF16_PEAK if name in device), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--model", default="minilm", help="registry key, local folder, or random:<size>")
    parser.add_argument("--variants", default="a,b,c")
    parser.add_argument("--peak-tflops", type=float, help="the card's dense bf16 peak, if its name is not known")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        labels = sorted({json.loads(line)["label"] for line in args.data.read_text().splitlines() if line.strip()})
        return child(args.child, args.data, labels, args.model)
    work = Path(tempfile.mkdtemp(prefix="throughput-"))
    sample = work / "sample.jsonl"
    sample.write_text("\n".join(stratified_sample(args.data, args.limit)) + "\n")
    model = args.model
    if model.startswith("random:"):
        from perf.random_models import build

        model = str(build(model.removeprefix("random:"), work / "model", args.data))
    results = {}
    for variant in args.variants.split(","):
        cmd = [sys.executable, __file__, "--child", variant, "--data", str(sample), "--model", model]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        found = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if not found:
            sys.exit(f"variant {variant} failed:\n{out.stderr[-3000:]}")
        raw = json.loads(found[-1][7:])
        r = results[variant] = {**summarise(raw, card_peak(raw["device"], args.peak_tflops)), "device": raw["device"]}
        mfu = f"  MFU {r['mfu']:.1%}" if r["mfu"] is not None else ""
        print(f"({variant}) {args.model} on {r['device']}: {r['samples_per_s']:.1f} samples/s  "
              f"{r['tokens_per_s']:.0f} tokens/s  peak {r['peak_mb']:.0f} MB{mfu}", flush=True)  # fmt: skip
    for base in ("a", "b"):
        if {base, "c"} <= results.keys():
            print(f"c/{base} speed {results['c']['samples_per_s'] / results[base]['samples_per_s']:.2f}x, "
                  f"memory c/{base} {results['c']['peak_mb'] / results[base]['peak_mb']:.2f}")  # fmt: skip
    print("RESULTS " + json.dumps({"model": args.model, **results}), flush=True)


if __name__ == "__main__":
    main()

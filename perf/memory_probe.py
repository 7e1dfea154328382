"""Peak GPU memory of a fine-tune recipe at full length: every batch 512 tokens, batch 16 (CUDA only).

    python perf/memory_probe.py run --model bge-m3 --recipe ours|today [--card-gb 8.2] [--other-gb 0] [--steps 6]
    python perf/memory_probe.py hold --card-gb 8.2 [--other-gb 2]   # hold memory until killed (another process)

`run` builds the recipe the way worker.training.pipeline does (its TrainingArguments, WeightedTrainer, frozen word
embeddings, the registry's checkpointing flag) and trains a few steps on random token ids, then prints one
`PROBE {json}` line: torch.cuda.max_memory_allocated of the run (minus any ballast), the plan and the estimate.
`today` is the recipe before the memory plan (AdamW foreach, micro-batch 16); `ours` asks the plan. --card-gb
makes the GPU look like a smaller card (a ballast tensor holds the rest) and --other-gb like a co-located vLLM.
`hold` does the same from a separate process, so a CLI run beside it meets a "smaller card".
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LABELS = [f"label_{i}" for i in range(10)]


def ballast(card_gb: float | None, other_gb: float, own_context_on_card: bool):
    """Allocate what a card of card_gb with other_gb held by others would not have free; None for the real card.
    own_context_on_card: this process is the trainer, so its CUDA context must come out of the small card too."""
    import torch

    if not card_gb:
        return None
    free, total = torch.cuda.mem_get_info()
    size = (total if own_context_on_card else free) - (card_gb - other_gb) * 1e9
    return torch.empty(max(int(size), 0), dtype=torch.uint8, device="cuda")


def _rows(tokenizer, count: int, length: int) -> list[dict]:
    import random

    rng, special = random.Random(0), set(tokenizer.all_special_ids)
    vocab = [i for i in range(len(tokenizer)) if i not in special]
    rows = []
    for i in range(count):
        ids = [tokenizer.cls_token_id, *(rng.choice(vocab) for _ in range(length - 2)), tokenizer.sep_token_id]
        rows.append({"input_ids": ids, "attention_mask": [1] * length, "labels": i % len(LABELS)})
    return rows


def run(model: str, recipe: str, steps: int, card_gb: float | None, other_gb: float) -> dict:
    import torch
    from transformers import DataCollatorWithPadding, PrinterCallback

    from shared.registry import get_spec
    from worker.training import pipeline, trainer_setup
    from worker.training.memory_plan import MemoryPlan, estimate_peak, model_shape
    from worker.training.model_loading import load_tokenizer_and_model
    from worker.training.weighted_trainer import WeightedTrainer

    cuda = torch.cuda.is_available()  # off CUDA it still runs (a smoke test), with no memory figures
    held = ballast(card_gb, other_gb, own_context_on_card=True)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated() if cuda else 0
    spec = get_spec(model)
    config = pipeline.TrainConfig(spec=spec, name="probe", data=Path("probe"), labels=LABELS, models_dir=Path("/"),
                                  epochs=1, batch_size=16, learning_rate=2e-5, warmup_ratio=0.1, weight_decay=0.01,
                                  max_tokens=512, early_stopping_patience=3, seed=42)  # fmt: skip
    tokenizer, net = load_tokenizer_and_model(spec, LABELS, allow_downloads=False)
    net.get_input_embeddings().requires_grad_(False)
    events, plan = [], MemoryPlan(16, 1, "adamw_torch", 0, 0, True)  # `today`, and `ours` off CUDA
    if recipe == "ours":
        emit = lambda kind, message, **_: events.append(f"[{kind}] {message}")  # noqa: E731
        plan = trainer_setup.memory_plan(config, net, emit) or plan
    rows = _rows(tokenizer, 16 * steps, 512)
    with tempfile.TemporaryDirectory() as out:
        trainer = WeightedTrainer(
            model=net, args=trainer_setup.training_arguments(config, Path(out), len(rows), plan), train_dataset=rows,
            eval_dataset=rows[:64], data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
            class_weights=torch.ones(len(LABELS)),
        )  # fmt: skip
        trainer.remove_callback(PrinterCallback)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    estimate = estimate_peak(model_shape(net), 512, plan.micro_batch, plan.accumulation, plan.optimizer,
                             checkpointing=spec.gradient_checkpointing)  # fmt: skip
    return {
        "model": model, "recipe": recipe, "card_gb": card_gb, "other_gb": other_gb, "micro_batch": plan.micro_batch,
        "accumulation": plan.accumulation, "optimizer": plan.optimizer, "estimate_gb": round(estimate / 1e9, 2),
        "peak_gb": round((torch.cuda.max_memory_allocated() - base) / 1e9, 2) if cuda else None,
        "seconds": round(seconds, 1),
        "events": events, "ballast_gb": round(held.numel() / 1e9, 1) if held is not None else 0,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["run", "hold"])
    parser.add_argument("--model", default="bge-m3")
    parser.add_argument("--recipe", choices=["ours", "today"], default="ours")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--card-gb", type=float)
    parser.add_argument("--other-gb", type=float, default=0.0)
    args = parser.parse_args()
    if args.mode == "hold":
        held = ballast(args.card_gb, args.other_gb, own_context_on_card=False)
        print(f"holding {held.numel() / 1e9:.1f} GB", flush=True)
        time.sleep(3600)
        return
    print("PROBE " + json.dumps(run(args.model, args.recipe, args.steps, args.card_gb, args.other_gb)), flush=True)


if __name__ == "__main__":
    main()

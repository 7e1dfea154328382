"""Quality: the default fine-tune recipe of a model against the TF-IDF + logistic-regression baseline, same split.

    python bench/quality.py --data ../shared/data/email_dev.jsonl [--model minilm] [--epochs 5] [--model-dir DIR]

Trains with the shipped defaults (or scores an existing --model-dir trained on the same file), fits the baseline on
the same train split (seed 42, stratified 80/20) and prints both macro-F1 / accuracy and the per-class F1 side by side.
The data set's labels are used as the label set.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/email_dev.jsonl")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--max-length", type=int, help="token cap (default: the recipe's)")
    parser.add_argument("--model-dir", type=Path, help="score this fine-tuned folder instead of training")
    args = parser.parse_args()

    from shared.data import load_examples, split_examples
    from classifiers.tfidf_baseline import TfidfBaselineAdapter
    from worker.training.metrics import classification_report
    from worker.training.pipeline import TrainConfig, run_finetune
    from shared.job_schema import FinetuneParams
    from shared.model_store import read_training_info

    labels = sorted({json.loads(line)["label"] for line in args.data.read_text().splitlines() if line.strip()})
    data = load_examples(args.data, labels)
    train, val, _ = split_examples(data.examples)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model_dir:
            info = read_training_info(args.model_dir)
            if sorted(info["split"]["val_lines"]) != sorted(e.line for e in val):
                sys.exit(f"{args.model_dir} was validated on other rows than {args.data}'s split: retrain on this file")
        else:
            hyper = {"learning_rate": args.learning_rate, **({"max_tokens": args.max_length} if args.max_length else {})}
            params = FinetuneParams(model=args.model, epochs=args.epochs, hyperparameters=hyper)
            config = TrainConfig.from_params(params, data=args.data, labels=labels, models_dir=Path(tmp))
            info = run_finetune(config, lambda type_, message, **_: print(f"  [{type_}] {message}", flush=True))
    baseline = TfidfBaselineAdapter(train)
    base = classification_report([e.label for e in val], baseline.classify_batch([(e.subject, e.body) for e in val]), labels)

    print(f"\n{len(train)} train / {len(val)} validation rows, {len(labels)} labels")
    print(f"{'':14} {'fine-tuned ' + args.model:>20} {'tfidf+logreg':>14}")
    print(f"{'macro-F1':14} {info['val_macro_f1']:>20.3f} {base['macro_f1']:>14.3f}")
    print(f"{'accuracy':14} {info['val_accuracy']:>20.3f} {base['accuracy']:>14.3f}")
    for label in labels:
        print(f"  {label:12} {info['per_class_f1'].get(label, 0):>20.3f} {base['per_class_f1'].get(label, 0):>14.3f}")
    print(f"epochs run {info['epochs_run']:g} (best {info['best_epoch']:g}), lr {info['hyperparameters']['learning_rate']}, "
          f"train {info['train_seconds']:.0f} s; fine-tuned minus baseline macro-F1: "
          f"{info['val_macro_f1'] - base['macro_f1']:+.3f}")


if __name__ == "__main__":
    main()

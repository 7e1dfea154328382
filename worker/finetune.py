"""Training CLI: `python -m worker.finetune --model minilm --epochs 5 [--data PATH] [--labels a,b] [--name N] [--json]`.

Stdout is the interface (the worker reads it): one line per event, flushed; `--json` prints the same events as one
JSON object per line (see docs/contracts.md). Exit codes: 0 done, 2 bad input, 3 model unavailable, 4 out of memory,
1 anything else, 143 terminated.
"""

import argparse
import sys
from pathlib import Path

from shared.data import DataError
from shared.labels import parse_labels
from shared.registry import DEFAULT_MODEL, UnknownModelError
from shared.settings import get_settings
from worker.cli_io import run_cli
from worker.encoding import DEFAULT_MAX_LENGTH
from worker.publish import BadNameError

EXIT_UNAVAILABLE, EXIT_OOM = 3, 4


def epochs_arg(value: str) -> int:
    epochs = int(value)
    if not 1 <= epochs <= 20:
        raise argparse.ArgumentTypeError(f"epochs must be between 1 and 20, got {epochs}")
    return epochs


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m worker.finetune", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="registry key or a local HF-format folder")
    parser.add_argument("--epochs", type=epochs_arg, default=5, help="1-20 (default 5; stops early after 3 flat epochs)")
    parser.add_argument("--data", type=Path, default=settings.score_file, help="labelled JSONL (AVOCET_SCORE_FILE)")
    parser.add_argument("--labels", type=parse_labels, default=settings.labels, help="comma-separated label set")
    parser.add_argument("--name", help="output name: models/avocet-<name>/ (default: the model key)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, help="default: the registry entry's, else 2e-5")
    parser.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH, help=f"token cap per email (default {DEFAULT_MAX_LENGTH})")
    parser.add_argument("--models-dir", type=Path, default=settings.models_dir, help="AVOCET_MODELS_DIR")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(args.json, lambda emit: _run(args, emit), (DataError, UnknownModelError, BadNameError, ValueError))


def _run(args, emit) -> int:
    from worker.model_loading import ModelUnavailableError
    from worker.training import TrainConfig, run_finetune

    config = TrainConfig(
        model=args.model, data=args.data, labels=args.labels, models_dir=args.models_dir, name=args.name,
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        max_length=args.max_length, allow_downloads=get_settings().allow_downloads,
    )
    try:
        info = run_finetune(config, emit)
    except ModelUnavailableError as exc:
        emit("error", str(exc), reason="model_unavailable")
        return EXIT_UNAVAILABLE
    except Exception as exc:
        if _is_oom(exc):
            emit("error", _oom_message(config), reason="oom")
            return EXIT_OOM
        raise
    emit(
        "complete",
        f"saved {info['model_dir']}: validation macro-F1 {info['val_macro_f1']:.4f}, "
        f"accuracy {info['val_accuracy']:.4f}, {info['epochs_run']:g} epochs in {info['train_seconds']:.0f}s",
        name=info["name"], model_dir=info["model_dir"], val_macro_f1=info["val_macro_f1"],
        val_accuracy=info["val_accuracy"], epochs_run=info["epochs_run"],
    )
    return 0


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _oom_message(config) -> str:
    return (
        f"GPU out of memory while training {config.spec.key} at batch size {config.batch_size}: "
        f"try --batch-size {max(1, config.batch_size // 2)}, or free the GPU (nvidia-smi shows which process holds it)"
    )


if __name__ == "__main__":
    sys.exit(main())

"""Training CLI: `python -m worker.training --model minilm --epochs 5 [--data PATH] [--labels a,b] [--name N] [--json]`.

The flags build a FinetuneParams (shared/job_schema.py), the same object the API and `celery call` validate; the
worker's training child gets it whole as `--params-json '{...}'`. Paths are taken as given: this CLI is for the
operator on the box. Stdout is the interface (the worker reads it): one line per event, flushed; `--json` prints
the same events as one JSON object per line (docs/contracts.md). Exit codes: 0 done, 2 bad input, 3 model
unavailable, 4 out of memory, 1 anything else, 143 terminated.
"""

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from shared import datasets
from shared.data import DataError
from shared.job_schema import DEFAULT_EPOCHS, FinetuneParams, explain
from shared.labels import split_list
from shared.model_store import BadNameError
from shared.param_flags import add_hyperparameter_flags, given_hyperparameters
from shared.registry import DEFAULT_MODEL, UnknownModelError
from shared.settings import get_settings
from worker.cli_io import run_cli

EXIT_UNAVAILABLE, EXIT_OOM = 3, 4
_TOP_LEVEL = ("model", "epochs", "data", "name")  # the hyperparameters' flags come from Hyperparameters itself


class BadParamsError(ValueError):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m worker.training", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=f"registry key or a local HF-format folder (default {DEFAULT_MODEL})")
    parser.add_argument("--epochs", type=int, help=f"default {DEFAULT_EPOCHS}; stops early after 3 flat epochs")
    parser.add_argument("--data", help="labelled JSONL (default AVOCET_SCORE_FILE)")
    parser.add_argument("--labels", help="comma-separated label set (default AVOCET_LABELS)")
    parser.add_argument("--name", help="output name: models/avocet-<name>/ (default: the model key)")
    add_hyperparameter_flags(parser)
    parser.add_argument("--params-json", help="all of the above as one FinetuneParams JSON object (the worker's way)")
    parser.add_argument("--models-dir", type=Path, help="AVOCET_MODELS_DIR")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    return parser


def params_from(args: argparse.Namespace) -> FinetuneParams:
    """The flags (or --params-json) as validated FinetuneParams; BadParamsError names each bad field."""
    if args.params_json is not None:
        try:
            values = json.loads(args.params_json)
        except ValueError as exc:
            raise BadParamsError(f"--params-json is not JSON: {exc}") from None
    else:
        values = {key: getattr(args, key) for key in _TOP_LEVEL if getattr(args, key) is not None}
        if args.labels is not None:
            values["labels"] = split_list(args.labels)
        hyper = given_hyperparameters(args)
        if hyper:
            values["hyperparameters"] = hyper
    try:
        return FinetuneParams.model_validate(values)
    except ValidationError as exc:
        raise BadParamsError(f"bad parameters ({explain(exc)})") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    bad_input = (BadParamsError, DataError, UnknownModelError, BadNameError, ValueError)
    return run_cli(args.json, lambda emit: _run(args, emit), bad_input)


def _run(args, emit) -> int:
    from worker.training.model_loading import ModelUnavailableError
    from worker.training.pipeline import TrainConfig, run_finetune

    settings = get_settings()
    params = params_from(args)
    data, labels, dataset_id = datasets.resolve(params.data, settings)
    config = TrainConfig.from_params(
        params.model_copy(update={"data": str(data)}), data=data, labels=labels, dataset_id=dataset_id,
        models_dir=args.models_dir or settings.models_dir, allow_downloads=settings.allow_downloads,
        versions_kept=settings.model_versions_kept,
    )  # fmt: skip
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
    low, high = info["val_macro_f1_interval"]
    where = "current" if info["current"] else "not made current"
    emit(
        "complete",
        f"saved version {info['version']} of {info['name']} ({where}): validation macro-F1 {info['val_macro_f1']:.3f} "
        f"(95 % interval {low:.3f}-{high:.3f}), accuracy {info['val_accuracy']:.3f}, {info['epochs_run']:g} epochs "
        f"in {info['train_seconds']:.0f}s",
        name=info["name"], val_macro_f1=info["val_macro_f1"],
        val_macro_f1_interval=info["val_macro_f1_interval"], val_accuracy=info["val_accuracy"],
        epochs_run=info["epochs_run"], version=info["version"], current=info["current"],
        scores={part: {k: v for k, v in score.items() if k in ("macro_f1", "interval", "accuracy")}
                for part, score in info["scores"].items() if isinstance(score, dict)},
        promotion=info["promotion"],
    )
    return 0


_OOM_TEXTS = ("out of memory", "cublas_status_alloc_failed", "can't allocate memory")


def _is_oom(exc: BaseException | None) -> bool:
    """True for an out-of-memory error anywhere in the exception chain (Trainer and accelerate re-raise)."""
    import torch

    oom_types = tuple(t for t in (getattr(torch, "OutOfMemoryError", None),
                                  getattr(torch.cuda, "OutOfMemoryError", None)) if t)  # fmt: skip
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, oom_types) or any(text in str(exc).lower() for text in _OOM_TEXTS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _oom_message(config) -> str:
    return oom_message(config.spec.key, config.batch_size, config.max_tokens, _gpu_memory())


def oom_message(model: str, batch_size: int, max_tokens: int, gpu: tuple[int, int] | None) -> str:
    """The cause, then the two fixes: free the GPU, or ask for less (halved batch size and token cap).
    `gpu` is (bytes other processes hold, card size), or None off CUDA."""
    where = "this machine"
    if gpu:
        where = f"the GPU ({gpu[1] / 1e9:.1f} GB, of which other processes hold {gpu[0] / 1e9:.1f} GB)"
    return (
        f"out of memory: training {model} at batch size {batch_size} and {max_tokens} tokens needs more memory than "
        f"{where} could give. Free the GPU: stop what else holds it (a vLLM server sharing the card: stop it, or "
        f"restart it with a lower --gpu-memory-utilization; `nvidia-smi` lists the processes), or retry with a smaller "
        f"batch (--batch-size {max(1, batch_size // 2)}, or hyperparameters.batch_size) or fewer tokens "
        f"(--max-tokens {max(8, max_tokens // 2)}, or hyperparameters.max_tokens)"
    )


def _gpu_memory() -> tuple[int, int] | None:
    """(bytes held by other processes, card size): what is neither free nor reserved by this process's allocator."""
    import torch

    if not torch.cuda.is_available():
        return None
    try:
        free, total = torch.cuda.mem_get_info()
        return max(0, total - free - torch.cuda.memory_reserved()), total
    except RuntimeError:  # the CUDA context itself may be what failed
        return None


if __name__ == "__main__":
    sys.exit(main())

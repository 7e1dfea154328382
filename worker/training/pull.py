"""Pre-fetch: `python -m worker.training pull deberta-small|bge-m3|<zero-shot key>|all [--cache-dir DIR]`.

Downloads each hub model at the commit shared.registry pins into the Hugging Face cache (HF_HOME, or
HF_HUB_CACHE), with huggingface_hub's progress bars on stderr. Run it once while the box still has network, with
the HF_HOME the worker uses; jobs and the benchmark then load those snapshots offline. Only what loading needs is
fetched: config and tokenizer files and the safetensors weights (pytorch_model.bin only where a commit has no
safetensors), not the ONNX/TF/Flax copies some repos carry. Exit codes: 0 all present, 2 unknown name,
3 a model could not be fetched (offline, hub unreachable, or the pinned commit is gone).
"""

import argparse
import sys
from pathlib import Path

from shared.registry import FINETUNE_BASES, ZERO_SHOT_CLASSIFIERS, UnknownModelError, hub_models

EXIT_BAD_NAME, EXIT_UNAVAILABLE = 2, 3
CONFIG_AND_WEIGHTS = ["*.json", "*.model", "*.txt", "*.safetensors"]  # configs, tokenizers (spm.model, vocab.txt)
BIN_WEIGHTS = ["pytorch_model*.bin"]


class PullError(RuntimeError):
    pass


def pull(hub_id: str, revision: str, cache_dir: Path | str | None = None) -> Path:
    """The snapshot folder of hub_id at revision, downloaded unless the cache already holds it."""
    folder = _snapshot(hub_id, revision, cache_dir, CONFIG_AND_WEIGHTS)
    if not any(folder.glob("*.safetensors")):
        folder = _snapshot(hub_id, revision, cache_dir, BIN_WEIGHTS)
    return folder


def _snapshot(hub_id: str, revision: str, cache_dir, patterns: list[str]) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(hub_id, revision=revision, cache_dir=cache_dir, allow_patterns=patterns))
    except Exception as exc:  # the hub's error classes differ across huggingface_hub versions; each means "not here"
        raise PullError(_explain(hub_id, revision, cache_dir, exc)) from exc


def _explain(hub_id: str, revision: str, cache_dir, exc: Exception) -> str:
    from huggingface_hub import constants

    what, where = f"{hub_id} at {revision}", cache_dir or constants.HF_HUB_CACHE
    if type(exc).__name__ == "RevisionNotFoundError":
        return f"the hub has no commit {revision} in {hub_id}: fix its entry in shared/registry.py HUB_REVISIONS"
    if _offline_mode():
        return (f"{what} is not in the cache ({where}) and HF_HUB_OFFLINE is set: unset it and run this pull "
                "where the box has network, with the HF_HOME the worker uses")  # fmt: skip
    return (
        f"could not download {what} into {where}: the Hugging Face hub is unreachable or refused "
        f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}). Run this pull while the box "
        f"has network (proxy: HTTPS_PROXY; mirror: HF_ENDPOINT), with the HF_HOME the worker uses"
    )


def _offline_mode() -> bool:
    from huggingface_hub import constants

    is_offline = getattr(constants, "is_offline_mode", None)  # a function in newer huggingface_hub
    return bool(is_offline() if callable(is_offline) else constants.HF_HUB_OFFLINE)


def build_parser() -> argparse.ArgumentParser:
    names = ["all", *sorted(k for k, s in FINETUNE_BASES.items() if s.revision), *sorted(ZERO_SHOT_CLASSIFIERS)]
    parser = argparse.ArgumentParser(prog="python -m worker.training pull", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", metavar="NAME", help=f"one or more of: {', '.join(names)}")
    parser.add_argument("--cache-dir", type=Path, help="default: the Hugging Face cache (HF_HOME / HF_HUB_CACHE)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    wanted: dict[str, str] = {}
    try:
        for name in args.names:
            wanted.update(hub_models(name))
    except UnknownModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_NAME
    failed = 0
    for hub_id, revision in wanted.items():
        try:
            folder = pull(hub_id, revision, args.cache_dir)
        except PullError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok: {hub_id} at {revision} in {folder}", flush=True)
    return EXIT_UNAVAILABLE if failed else 0


if __name__ == "__main__":
    sys.exit(main())

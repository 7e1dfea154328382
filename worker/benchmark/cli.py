"""Benchmark CLI: `python -m worker.benchmark [--data PATH] [--models a,b] [--save] [--json] [--labels a,b]`.

--data and --models build a BenchmarkParams (shared/job_schema.py), as the API and `celery call` do; the worker's
child gets it whole as `--params-json '{...}'`.

Stdout is the interface, as for worker.training: progress lines, flushed, then a table; with --json every line is
one JSON object (docs/contracts.md) and the table arrives as `log` lines. Exit codes: 0 done (after a `complete`
line), 2 bad input, 1 anything else, 143 terminated. Unavailable models are results with a reason, not failures.
"""

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from shared import datasets
from shared.data import SPLIT_SEED, DataError, load_examples, rows_digest, split_examples
from shared.job_schema import BenchmarkParams, explain
from shared.labels import parse_labels, split_list
from shared.settings import get_settings
from worker.cli_io import run_cli


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m worker.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="labelled JSONL (default AVOCET_SCORE_FILE)")
    parser.add_argument("--models", help="comma-separated classifier names (default: all)")
    parser.add_argument("--params-json", help="--data and --models as one BenchmarkParams JSON object")
    parser.add_argument("--labels", type=parse_labels, help="comma-separated label set (default: the dataset's)")
    parser.add_argument("--models-dir", type=Path, default=settings.models_dir, help="AVOCET_MODELS_DIR")
    parser.add_argument("--descriptions", type=Path, help="JSON {label: description} for the zero-shot models")
    parser.add_argument("--save", action="store_true", help="add this run to <models-dir>/benchmark_results.json")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    return parser


def params_from(args: argparse.Namespace) -> BenchmarkParams:
    try:
        if args.params_json is not None:
            return BenchmarkParams.model_validate_json(args.params_json)
        models = split_list(args.models or "") or None
        return BenchmarkParams(data=args.data, models=models)
    except ValidationError as exc:
        raise ValueError(f"bad parameters ({explain(exc)})") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(args.json, lambda emit: _run(args, emit), (DataError, ValueError))


def _run(args, emit) -> int:
    from classifiers.descriptions import read_descriptions
    from shared.data import file_sha256
    from worker.benchmark.split_check import SplitFacts
    from worker.benchmark.candidates import BenchContext, all_candidates, select
    from shared.model_store import new_benchmark_run, save_benchmark_run
    from worker.benchmark.runner import run_candidates
    from worker.training.encoding import device_name

    params = params_from(args)
    data_file, default_labels, _ = datasets.resolve(params.data, get_settings())
    descriptions = read_descriptions(args.descriptions) if args.descriptions else None
    data = load_examples(data_file, args.labels or default_labels)
    train, val, notes = split_examples(data.examples, seed=SPLIT_SEED)
    for warning in [*data.warnings, *notes]:
        emit("warning", warning)
    facts = SplitFacts(data.labels, SPLIT_SEED, sorted(e.line for e in val), file_sha256(data_file), rows_digest(val))
    ctx = BenchContext(train, facts, args.models_dir, get_settings().allow_downloads, descriptions)
    candidates = select(all_candidates(ctx), params.models)
    emit(
        "start",
        f"benchmarking {len(candidates)} classifiers on {device_name()}: {len(val)} validation rows of "
        f"{len(data.examples)} ({len(train)} train), {len(data.labels)} labels",
        model=",".join(c.name for c in candidates), device=device_name(), samples=len(data.examples),
        labels=len(data.labels), train_samples=len(train), val_samples=len(val),
    )  # fmt: skip
    results = run_candidates(candidates, val, data.labels, emit)
    for line in format_table(results):
        if args.json:
            emit("log", line)
        else:
            print(line, flush=True)  # the table is for people: no [log] prefix in text mode
    run = new_benchmark_run(data_file, len(val), SPLIT_SEED, results)
    saved = str(save_benchmark_run(args.models_dir, run)) if args.save else None
    available = sum(r["available"] for r in results)
    emit(
        "complete",
        f"benchmarked {available} of {len(results)} classifiers on {len(val)} rows"
        + (f"; saved to {saved}" if saved else " (not saved: pass --save)"),
        results_file=saved, rows=len(val),
    )  # fmt: skip
    return 0


def format_table(results: list[dict]) -> list[str]:
    """Best macro-F1 first; unavailable models last, with their reason."""
    ranked = sorted(results, key=lambda r: (not r["available"], -(r["macro_f1"] or 0)))
    width = max([len("model"), *(len(r["name"]) for r in results)])
    lines = [f"{'model':<{width}}  {'kind':<12}  {'macro-F1':>8}  {'accuracy':>8}  {'ms/email':>8}"]
    for r in ranked:
        head = f"{r['name']:<{width}}  {r['kind']:<12}"
        if r["available"]:
            lines.append(f"{head}  {r['macro_f1']:>8.4f}  {r['accuracy']:>8.4f}  {r['ms_per_email']:>8.2f}")
        else:
            lines.append(f"{head}  unavailable: {r['reason']}")
    return lines


if __name__ == "__main__":
    sys.exit(main())

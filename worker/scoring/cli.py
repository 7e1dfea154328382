"""Score CLI: `python -m worker.scoring --name NAME --data ID [--version N] [--results-dir DIR] [--json]`.

The flags build a ScoreParams (shared/job_schema.py); the worker's child gets it whole as `--params-json '{...}'`
plus `--results-dir`. The model is the published version the name (and version) means, found by the code predict
uses (shared/model_refs.py) and loaded as predict loads it (classifiers.fine_tuned.FineTunedAdapter, the ensemble
blend included), so a score row's label is the one predict gives. Every row of the dataset is scored in batches (a
`progress` line per batch); the result files are `predictions` (every row, file order), `label_next` (unlabelled rows
worth labelling first, classifiers/label_next.py) and `disagreements` (labelled rows the model labels otherwise).
Exit codes: 0 done, 2 bad input (no such model, version or dataset), 1 anything else, 143 terminated.
"""

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from shared import job_results, model_refs
from shared.data import DataError, Row, model_text
from shared.job_schema import ScoreParams
from shared.settings import get_settings
from worker.cli_io import run_cli
from worker.result_rows import add_common_arguments, params_from, read_dataset, rounded, row_fields

BATCH_SIZE = 64


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m worker.scoring", description=__doc__.splitlines()[0])
    parser.add_argument("--name", help="a published model's name")
    parser.add_argument("--version", type=int, help="its version (default: the current one)")
    parser.add_argument("--data", help="dataset id (ds-<16 hex> or score-file)")
    add_common_arguments(parser, ScoreParams)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(args.json, lambda emit: _run(args, emit), (DataError, ValueError, model_refs.ModelNotFound))


def _run(args: argparse.Namespace, emit) -> int:
    from classifiers.batch_scoring import probabilities_in_batches
    from classifiers.fine_tuned import FineTunedAdapter
    from worker.training.encoding import device_name

    params: ScoreParams = params_from(args, ScoreParams, {"name": args.name, "version": args.version,
                                                          "data": args.data})  # fmt: skip
    ref = model_refs.resolve(get_settings().models_dir, params.name, params.version)
    rows = read_dataset(params.data)
    adapter = FineTunedAdapter(ref.folder)
    labelled = sum(row.label is not None for row in rows)
    emit("start", f"scoring {len(rows)} rows of {params.data} ({labelled} labelled) with {ref.name} version "
         f"{ref.version} on {device_name()}", model=ref.name, version=ref.version, device=device_name(),
         samples=len(rows), labels=len(adapter.labels))  # fmt: skip
    started = time.perf_counter()
    probabilities = probabilities_in_batches(
        adapter, [(row.subject, row.body) for row in rows], batch_size=BATCH_SIZE,
        on_batch=lambda done, total: emit("progress", f"batch {done}/{total} scored", step=done, total=total),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    summary = write_results(args.results_dir, params, rows, probabilities, list(adapter.labels))
    summary = {"model": ref.name, "version": ref.version, **summary, "emails_per_s": round(len(rows) / seconds, 1)}
    emit("complete", f"scored {len(rows)} rows: {summary['disagreements']} labelled rows disagree with the model, "
         f"{summary['label_next']} rows ranked to label next", results=summary.pop("results"), summary=summary)  # fmt: skip
    return 0


def write_results(folder: Path, params: ScoreParams, rows: list[Row], probabilities, labels: list[str]) -> dict:
    """Write the three files; the summary, with `results` [{name, rows}] for the job record."""
    from classifiers.label_next import label_next_order, scored_rows

    predictions = [prediction_row(row, scored) for row, scored in
                   zip(rows, scored_rows(probabilities, labels, top_k=params.top_k))]  # fmt: skip
    unlabelled = [i for i, row in enumerate(rows) if row.label is None]
    label_counts = Counter(row.label for row in rows if row.label is not None)
    order = label_next_order(probabilities, labels, [model_text(r.subject, r.body) for r in rows],
                             candidates=unlabelled, limit=params.label_next,
                             label_counts=label_counts) if unlabelled and params.label_next else []  # fmt: skip
    ranked = [{**predictions[i], "rank": rank, "score": rounded(score)} for rank, (i, score) in enumerate(order, 1)]
    disagreements = [p for p in predictions if p["given"] is not None and p["label"] != p["given"]]
    folder.mkdir(parents=True, exist_ok=True)
    files = {"predictions": predictions, "label_next": ranked, "disagreements": disagreements}
    results = [{"name": name, "rows": job_results.write(folder, name, content)} for name, content in files.items()]
    return {"rows": len(rows), "labelled_rows": len(rows) - len(unlabelled), "disagreements": len(disagreements),
            "label_next": len(files["label_next"]), "predicted_by_label": dict(sorted(Counter(
                p["label"] for p in predictions).items())), "results": results}  # fmt: skip


def prediction_row(row: Row, scored) -> dict:
    fields = row_fields(row)
    return {"line": fields["line"], "id": fields["id"], "label": scored.label, "probability": rounded(scored.probability),
            "top": [{"label": label, "probability": rounded(p)} for label, p in scored.top],
            "uncertainty": rounded(scored.uncertainty), "given": row.label, "subject": fields["subject"],
            "preview": fields["preview"]}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

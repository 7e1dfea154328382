"""Label audit CLI: `python -m worker.audit --data ID [--method quick|thorough] [--folds K] [--results-dir DIR] [--json]`.

The flags build an AuditParams (shared/job_schema.py), as the API and `celery call` do; the worker's child gets it
whole as `--params-json '{...}'` plus `--results-dir` (the job's folder, shared/job_results.py). Out-of-fold
probabilities for every labelled row (classifiers/label_audit.py) rank the rows whose given label is likely wrong;
they go to <results-dir>/issues.jsonl, best first. Stdout is the interface as for worker.training: a `start` line, a
`progress` line per fold (step/total), a `complete` line with `results` and `summary` (the job's result). Exit
codes: 0 done, 2 bad input (a label with too few rows, no labelled rows), 1 anything else, 143 terminated.
"""

import argparse
import sys
from collections.abc import Sequence

from shared import job_results
from shared.data import DataError, Row
from shared.job_schema import AuditParams
from worker.cli_io import run_cli
from worker.result_rows import add_common_arguments, as_log, params_from, read_dataset, rounded, row_fields


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m worker.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="dataset id (ds-<16 hex> or score-file)")
    parser.add_argument("--method", choices=("quick", "thorough"), help="default quick")
    parser.add_argument("--folds", type=int, help="cross-validation folds, 2-10 (default 5)")
    add_common_arguments(parser, AuditParams)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(args.json, lambda emit: _run(args, emit), (DataError, ValueError))


def _run(args: argparse.Namespace, emit) -> int:
    from classifiers.label_audit import audit_labels

    params: AuditParams = params_from(args, AuditParams, {"data": args.data, "method": args.method,
                                                          "folds": args.folds})  # fmt: skip
    rows = [row for row in read_dataset(params.data) if row.label is not None]
    if not rows:
        raise DataError(f"dataset {params.data} has no labelled rows: there is nothing to audit")
    labels = sorted({row.label for row in rows})
    emit("start", f"auditing the {len(rows)} labelled rows of {params.data}: {params.method}, {params.folds} folds",
         model=params.model if params.method == "thorough" else "ngram", samples=len(rows), labels=len(labels),
         folds=params.folds, method=params.method)  # fmt: skip
    result = audit_labels(
        [row.example() for row in rows], method=params.method, folds=params.folds, base_model=params.model,
        on_fold=lambda done, total: emit("progress", f"fold {done}/{total} done", step=done, total=total),
        emit=as_log(emit),
    )  # fmt: skip
    args.results_dir.mkdir(parents=True, exist_ok=True)
    written = job_results.write(args.results_dir, "issues", issue_rows(result.issues, rows), params.limit)
    summary = {"method": result.method, "folds": result.folds, "labelled_rows": len(rows),
               "issues": len(result.issues), "issues_by_label": dict(result.issues_by_label)}  # fmt: skip
    emit("complete", f"{len(result.issues)} suspected label issues among {len(rows)} labelled rows"
         + (f" ({written} written: the limit)" if written < len(result.issues) else ""),
         results=[{"name": "issues", "rows": written}], summary=summary)  # fmt: skip
    return 0


def issue_rows(issues: Sequence, rows: Sequence[Row]):
    """The issues file's rows, ranked as the audit ranked them (most likely wrong first)."""
    for rank, issue in enumerate(issues, start=1):
        fields = row_fields(rows[issue.index])
        yield {"rank": rank, "line": fields["line"], "id": fields["id"], "given": issue.given,
               "suggested": issue.suggested, "given_probability": rounded(issue.given_probability),
               "suggested_probability": rounded(issue.suggested_probability), "score": rounded(issue.score),
               "subject": fields["subject"], "preview": fields["preview"]}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

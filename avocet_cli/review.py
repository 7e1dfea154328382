"""The labelling loop from the command line: `avocet datasets audit ID`, `avocet models score NAME --dataset ID`,
`avocet jobs results JOB_ID`. The commands are added to their resources' parsers (datasets, models, jobs) from here,
so the loop reads as one module; the options are checked by the API (a 422 names the flag).

    avocet datasets audit ds-0123456789abcdef --folds 5 --follow
    avocet models score minilm --dataset ds-0123456789abcdef -o predictions.jsonl
    avocet jobs results <job id> --name label_next -o label_next.jsonl
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from avocet_cli.client import ApiClient
from avocet_cli.errors import OK, CliError
from avocet_cli.follow import follow
from avocet_cli.format import Output, job_summary


def audit(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    body = {k: v for k, v in (("method", args.method), ("folds", args.folds)) if v is not None}
    job = client.post(f"/api/datasets/{args.dataset_id}/audit", body)
    return _after_submit(args, client, out, job, None)


def score(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    body = {"data": args.dataset, "version": args.version}
    job = client.post(f"/api/models/{args.name}/score", {k: v for k, v in body.items() if v is not None})
    return _after_submit(args, client, out, job, "predictions" if args.output else None)


def _after_submit(args: argparse.Namespace, client: ApiClient, out: Output, job: dict, download: str | None) -> int:
    """Show the job; follow it when asked (or when a file is to be written, which needs the finished job)."""
    if out.as_json:
        out.record(job)
    else:
        out.line(job_summary(job))
    if not (args.follow or download):
        if not out.as_json:
            out.line(f"follow it: avocet jobs logs {job['id']} --follow; then: avocet jobs results {job['id']}")
        return OK
    code = follow(client, out, job["id"], show_log=args.follow)
    if code != OK:
        return code
    done = client.get(f"/api/jobs/{job['id']}")
    if not out.as_json:
        out.line(summary_text(done.get("result") or {}))
    if download:
        _save(client, out, job["id"], download, Path(args.output))
    elif not out.as_json:
        out.line(f"read them: avocet jobs results {job['id']} [--name NAME] [-o FILE]")
    return OK


def summary_text(result: dict[str, Any]) -> str:
    files = ", ".join(f"{r.get('name')} ({r.get('rows')} rows)" for r in result.get("results") or [])
    summary = result.get("summary") or {}
    by_label = summary.get("issues_by_label") or summary.get("predicted_by_label") or {}
    counts = ", ".join(f"{label}={n}" for label, n in by_label.items() if n)
    return f"results: {files or 'none'}" + (f"\nper label: {counts}" if counts else "")


def results(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    if args.output:
        _save(client, out, args.job_id, args.name, Path(args.output))
    else:
        sys.stdout.buffer.write(_fetch(client, args.job_id, args.name))  # JSONL as is, in every mode
        sys.stdout.flush()
    return OK


def _fetch(client: ApiClient, job_id: str, name: str | None) -> bytes:
    params = {"name": name} if name else {}
    return client.request("GET", f"/api/jobs/{job_id}/results", params=params).content


def _save(client: ApiClient, out: Output, job_id: str, name: str | None, path: Path) -> None:
    content = _fetch(client, job_id, name)
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None
    if not out.as_json:
        rows = content.count(b"\n")
        out.error(f"wrote {rows} rows to {path}")


def add_audit(datasets: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = datasets.add_parser("audit", parents=[common], help="find the rows whose label is probably wrong (a job)")
    p.add_argument("dataset_id", metavar="ID")
    p.add_argument("--method", choices=["quick", "thorough"], help="quick: n-gram model (default); thorough: fine-tunes")
    p.add_argument("--folds", type=int, help="cross-validation folds, 2-10 (server default 5)")
    p.add_argument("--follow", action="store_true", help="show the live log; exit 0 succeeded, 1 failed, 3 cancelled")
    p.set_defaults(run=audit)


def add_score(models: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = models.add_parser("score", parents=[common], help="predict every row of a dataset, rank rows to label (a job)")
    p.add_argument("name", metavar="NAME", help="model name without the avocet- prefix")
    p.add_argument("--dataset", required=True, help="dataset id (avocet datasets list)")
    p.add_argument("--version", type=int, help="an earlier version (default: the current one)")
    p.add_argument("-o", "--output", metavar="FILE", help="wait for the job, then write its predictions JSONL here")
    p.add_argument("--follow", action="store_true", help="show the live log; exit 0 succeeded, 1 failed, 3 cancelled")
    p.set_defaults(run=score)


def add_results(jobs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = jobs.add_parser("results", parents=[common], help="an audit or score job's result file, as JSONL")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--name", help="issues | predictions | label_next | disagreements (default: the job's first)")
    p.add_argument("-o", "--output", metavar="FILE", help="write it here (default: stdout)")
    p.set_defaults(run=results)

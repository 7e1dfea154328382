"""`avocet jobs ...`: submit, list, show, logs, cancel, wait. Each command is one function (args, client, out) -> exit
code; the job's parameters are checked by the API (a 422 names the flag), not here, so the rules have one home."""

import argparse
from typing import Any

from avocet_cli import review
from avocet_cli.client import ApiClient
from shared.job_schema import Hyperparameters
from shared.param_flags import add_hyperparameter_flags, flag_of, given_hyperparameters
from avocet_cli.errors import INTERRUPTED, OK, CliError
from avocet_cli.follow import EXIT_BY_STATE, follow, outcome
from avocet_cli.format import JOB_COLUMNS, Output, event_line, job_detail, job_row, job_summary
from shared.labels import split_list

FINETUNE_ONLY = ("--model", "--epochs", "--labels", "--name", *(flag_of(name) for name in Hyperparameters.model_fields))
LOG_PAGE = 500


def submit_body(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) of `jobs submit`; only the flags given are sent, so the server's defaults apply."""
    if args.kind == "benchmark":
        given = [flag for flag in FINETUNE_ONLY if getattr(args, _dest(flag), None) is not None]
        if given:
            raise CliError(f"{', '.join(given)} apply to fine-tune jobs only: drop them or use --kind finetune")
        body = {"data": args.dataset, "models": _split(args.models)}
        return "/api/benchmark/jobs", {k: v for k, v in body.items() if v is not None}
    if args.models is not None:
        raise CliError("--models applies to benchmark jobs: use --model for a fine-tune, or --kind benchmark")
    body = {"model": args.model, "epochs": args.epochs, "data": args.dataset, "labels": _split(args.labels),
            "name": args.name}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    hyper = given_hyperparameters(args)
    if hyper:
        body["hyperparameters"] = hyper
    return "/api/finetune/jobs", body


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def _split(value: str | None) -> list[str] | None:
    return None if value is None else split_list(value)


def submit(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    path, body = submit_body(args)
    job = client.post(path, body)
    if out.as_json:
        out.record(job)
    else:
        out.line(job_summary(job))
    if args.follow:
        return follow(client, out, job["id"])
    if not out.as_json:
        out.line(f"follow it: avocet jobs logs {job['id']} --follow")
    return OK


def list_jobs(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    params = {k: v for k, v in (("kind", args.kind), ("limit", args.limit), ("before", args.before)) if v is not None}
    response = client.request("GET", "/api/jobs", params=params)
    jobs, more = client.json_of(response), response.headers.get("X-Next-Before")
    out.listing(jobs, JOB_COLUMNS, job_row, "no jobs")
    if more:
        out.error(f"more: avocet jobs list --before {more}")
    return OK


def show(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    job = client.get(f"/api/jobs/{args.job_id}")
    if out.as_json:
        out.record(job)
    else:
        out.line(job_detail(job))
    return OK


def logs(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    if args.follow:
        return follow(client, out, args.job_id, args.after)
    for event in _log_events(client, args.job_id, args.after):
        if out.as_json:
            out.record(event)
        else:
            out.line(event_line(event))
    return OK


def _log_events(client: ApiClient, job_id: str, after: int):
    """The log so far: pages of GET /api/jobs/{id}/log, or, where the API has no such route, the event stream
    read up to the job's last event id (so a running job's log ends where it stood)."""
    while True:
        params = {"after": after, "limit": LOG_PAGE}
        response = client.request("GET", f"/api/jobs/{job_id}/log", params=params, ok=(404,))
        if response.status_code == 404:
            break
        page = client.json_of(response)
        yield from page.get("events") or []
        if not page.get("has_more") or page.get("next_after") in (None, after):
            return
        after = int(page["next_after"])
    last = int(client.get(f"/api/jobs/{job_id}").get("last_event_id") or 0)  # names a missing job (404)
    if last <= after:
        return
    for event in client.events(job_id, after):
        yield event
        if int(event.get("id") or 0) >= last:
            return


def cancel(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    job = client.post(f"/api/jobs/{args.job_id}/cancel")
    if out.as_json and not args.wait:
        out.record(job)
    elif not out.as_json:
        out.line(f"job {job['id']} cancelled" if job.get("state") == "cancelled"
                 else f"job {job['id']}: cancel requested; its worker stops it within about a second")  # fmt: skip
    return wait(args, client, out) if args.wait else OK


def wait(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    job = client.get(f"/api/jobs/{args.job_id}")
    if job.get("state") in EXIT_BY_STATE:
        code = outcome(out, job)
    else:  # from its last event on: only the end matters
        code = follow(client, out, args.job_id, int(job.get("last_event_id") or 0), show_log=False)
    if out.as_json and code != INTERRUPTED:
        out.record(client.get(f"/api/jobs/{args.job_id}"))
    return code


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    jobs = commands.add_parser("jobs", help="submit, list, follow and cancel jobs")
    actions = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_submit(actions.add_parser("submit", parents=[common], help="queue a fine-tune (or benchmark) job"))
    p = actions.add_parser("list", parents=[common], help="jobs, newest first")
    p.add_argument("--kind", choices=["finetune", "benchmark", "audit", "score"])
    p.add_argument("--limit", type=int)
    p.add_argument("--before", metavar="JOB_ID", help="the page after this job (printed when there are more)")
    p.set_defaults(run=list_jobs)
    for name, run, text in (
        ("show", show, "one job's record"),
        ("logs", logs, "a job's log (--follow: until it ends)"),
        ("cancel", cancel, "cancel a queued or running job"),
        ("wait", wait, "wait for a job to end, without its log; exits like --follow"),
    ):
        p = actions.add_parser(name, parents=[common], help=text)
        p.add_argument("job_id", metavar="JOB_ID")
        p.set_defaults(run=run)
        if name == "logs":
            p.add_argument("--follow", "-f", action="store_true", help="keep following until the job ends")
            p.add_argument("--after", type=int, default=0, metavar="EVENT_ID", help="only events after this id")
        if name == "cancel":
            p.add_argument("--wait", action="store_true", help="then wait until it has stopped (exit 3)")
    review.add_results(actions, common)


def _add_submit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=["finetune", "benchmark"], default="finetune")
    p.add_argument("--model", help="base model: a registry key such as minilm, or a model folder the server knows")
    p.add_argument("--epochs", type=int, help="training epochs (server default when left out)")
    p.add_argument("--dataset", help="dataset id (avocet datasets list) or a data file on the server; sent as `data`")
    p.add_argument("--labels", help="label set, comma-separated: a,b,c")
    p.add_argument("--name", help="publish as models/avocet-<name>/ (default: the model key)")
    p.add_argument("--models", help="benchmark only: classifiers to score, comma-separated")
    add_hyperparameter_flags(p)
    p.add_argument("--follow", action="store_true", help="show the live log; exit 0 succeeded, 1 failed, 3 cancelled")
    p.set_defaults(run=submit)

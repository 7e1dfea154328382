"""`avocet datasets ...`: upload a labelled JSONL file, list the uploaded ones. The API validates the rows (a 422
lists each bad line); this side only checks that the file is there."""

import argparse
from pathlib import Path

from avocet_cli import review
from avocet_cli.client import ApiClient
from avocet_cli.errors import OK, CliError, read_file
from avocet_cli.format import Output, when


def upload(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no file {path}: give the path of a labelled JSONL file (subject, body, label per line)")
    named = {"name": args.name} if args.name else {}
    files = {"file": (path.name, read_file(path), "application/x-ndjson")}
    # The name goes as a form field (the contract) and as ?name= (what the raw upload reads), so either side works.
    response = client.request("POST", "/api/datasets", files=files, data=named, params=named)
    dataset = client.json_of(response)
    if out.as_json:
        out.record(dataset)
        return OK
    again = " (the same bytes were uploaded before)" if response.status_code == 200 else ""
    labelled = dataset.get("labelled_rows")
    unlabelled = f" ({labelled} labelled)" if labelled not in (None, dataset.get("rows")) else ""
    out.line(f"dataset {dataset.get('id')} {dataset.get('name')}{again}: {dataset.get('rows')} rows{unlabelled}, "
             f"{size(dataset.get('size_bytes'))}, sha256 {str(dataset.get('sha256'))[:12]}")  # fmt: skip
    out.line(f"labels: {labels(dataset.get('labels'))}")
    out.line(f"train on it: avocet jobs submit --dataset {dataset.get('id')}")
    return OK


def list_datasets(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    out.listing(client.get("/api/datasets"), ["ID", "NAME", "ROWS", "LABELLED", "SIZE", "LABELS", "CREATED"],
                lambda d: [d.get("id"), d.get("name"), d.get("rows"), d.get("labelled_rows"), size(d.get("size_bytes")),
                           len(d.get("labels") or {}), when(d.get("created_at"))], "no datasets")  # fmt: skip
    return OK


def size(n: int | None) -> str:
    if not isinstance(n, int):
        return "-"
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


def labels(counts: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in counts.items()) if counts else "-"


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    datasets = commands.add_parser("datasets", help="upload and list labelled data").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = datasets.add_parser("upload", parents=[common], help="upload a labelled JSONL file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", help="the dataset's name (default: the server's choice)")
    p.set_defaults(run=upload)
    p = datasets.add_parser("list", parents=[common], help="uploaded datasets")
    p.set_defaults(run=list_datasets)
    review.add_audit(datasets, common)

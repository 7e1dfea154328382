"""`avocet models ...`: the published fine-tuned models (list), classify emails with one (predict), and point a
model back at an earlier version (rollback). Names are given without the `avocet-` prefix, as the API lists them."""

import argparse
import json
from pathlib import Path

from avocet_cli import review
from avocet_cli.client import ApiClient
from avocet_cli.errors import OK, CliError, read_file
from avocet_cli.format import Output, number, score_text, when
from shared.data import split_lines


def list_models(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    out.listing(client.get("/api/models"), ["NAME", "VERSION", "BASE", "F1", "ACCURACY", "UPDATED", "VERSIONS"],
                lambda m: [m.get("name"), m.get("current_version"), m.get("base_model"),
                           score_text(m.get("val_macro_f1"), m.get("val_macro_f1_interval")),
                           number(m.get("val_accuracy")), when(m.get("timestamp")), _versions(m.get("versions"))],
                "no published models: fine-tune one with avocet jobs submit")  # fmt: skip
    return OK


def _versions(versions: object) -> str:
    if isinstance(versions, list):
        return ",".join(str(v.get("version", v) if isinstance(v, dict) else v) for v in versions)
    return "-" if versions is None else str(versions)


def read_emails(path: Path) -> list[dict[str, str]]:
    """`subject`/`body` of each JSONL row (other keys, such as label, are not sent)."""
    if not path.is_file():
        raise CliError(f'no file {path}: give a JSONL file with one {{"subject", "body"}} object per line')
    try:
        text = read_file(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8 JSONL") from None
    emails = []
    for number_, line in enumerate(split_lines(text), 1):  # JSONL's line rule, as the server reads uploads
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CliError(f"{path} line {number_}: not JSON ({exc}); write one object per line") from None
        if not isinstance(row, dict) or not ({"subject", "body"} & row.keys()):
            raise CliError(f'{path} line {number_}: needs a "subject" and/or "body" field')
        emails.append({"subject": str(row.get("subject") or ""), "body": str(row.get("body") or "")})
    if not emails:
        raise CliError(f'{path} has no emails: write one {{"subject", "body"}} object per line')
    return emails


def predict(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    if args.file and (args.subject is not None or args.body is not None):
        raise CliError("give either --file or --subject/--body, not both")
    if not args.file and args.subject is None and args.body is None:
        raise CliError("nothing to classify: give --subject and --body, or --file emails.jsonl")
    emails = read_emails(Path(args.file)) if args.file else [{"subject": args.subject or "", "body": args.body or ""}]
    body = {"emails": emails, "top_k": args.top_k}
    if args.version is not None:
        body["version"] = args.version
    answer = client.post(f"/api/models/{args.name}/predict", body)
    predictions = answer.get("predictions") or []
    if out.as_json:
        for index, prediction in enumerate(predictions):
            out.record({"model": answer.get("model"), "version": answer.get("version"), "index": index, **prediction})
        return OK
    out.line(f"model {answer.get('model')} version {answer.get('version')}")
    for email, prediction in zip(emails, predictions, strict=False):
        others = ", ".join(f"{t.get('label')} {number(t.get('score'))}" for t in (prediction.get("top") or [])[1:])
        subject = email["subject"] if len(email["subject"]) <= 40 else email["subject"][:39] + "~"
        out.line(f"{prediction.get('label')} {number(prediction.get('score'))}  {subject!r}"
                 + (f"  (then {others})" if others else ""))  # fmt: skip
    return OK


def rollback(args: argparse.Namespace, client: ApiClient, out: Output) -> int:
    model = client.post(f"/api/models/{args.name}/rollback", {"version": args.version})
    if out.as_json:
        out.record(model)
    else:
        version = model.get("current_version", args.version)
        out.line(f"model {model.get('name', args.name)} now serves version {version}")
    return OK


def add_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    models = commands.add_parser("models", help="published models: list, predict, rollback, score").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = models.add_parser("list", parents=[common], help="published fine-tuned models")
    p.set_defaults(run=list_models)
    p = models.add_parser("predict", parents=[common], help="classify emails with a published model")
    p.add_argument("name", metavar="NAME", help="model name without the avocet- prefix")
    p.add_argument("--subject")
    p.add_argument("--body")
    p.add_argument("--file", help='JSONL, one {"subject", "body"} per line (1-256 rows)')
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--version", type=int, help="an earlier version (default: the current one)")
    p.set_defaults(run=predict)
    p = models.add_parser("rollback", parents=[common], help="serve an earlier version of a model")
    p.add_argument("name", metavar="NAME", help="model name without the avocet- prefix")
    p.add_argument("--version", type=int, required=True)
    p.set_defaults(run=rollback)
    review.add_score(models, common)

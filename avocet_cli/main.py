"""`avocet`: the ops CLI over the HTTP API. This module only wires: the parser (one module per resource adds its
commands), the client from the environment, and every failure turned into a message on stderr and an exit code.

    avocet jobs submit --model minilm --epochs 1 --follow
    AVOCET_URL=http://gpu-box:8000 AVOCET_API_TOKEN=... avocet jobs list
Exit codes: 0 succeeded, 1 job failed, 2 usage / bad input, 3 job cancelled, 4 API unreachable or token refused,
130 Ctrl-C while following (the job keeps running).
"""

import argparse
import sys

from avocet_cli import datasets, jobs, models
from avocet_cli.client import ApiClient
from avocet_cli.errors import INTERRUPTED, CliError
from avocet_cli.format import Output

EPILOG = """environment:
  AVOCET_URL        the API (default http://127.0.0.1:8000)
  AVOCET_API_TOKEN  sent as 'Authorization: Bearer <token>' when the server requires one

exit codes:
  0 succeeded   1 job failed   2 usage or bad input   3 job cancelled
  4 cannot reach the API, or it refused the token   130 Ctrl-C while following (the job keeps running)"""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine output: one JSON object per line on stdout")
    parser = argparse.ArgumentParser(
        prog="avocet", description="Avocet fine-tune service: jobs, datasets and models over the HTTP API.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    commands = parser.add_subparsers(dest="resource", required=True, metavar="RESOURCE")
    for module in (jobs, datasets, models):
        module.add_commands(commands, common)
    return parser


def main(argv: list[str] | None = None, client: ApiClient | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 here, with argparse's message
    out = Output(as_json=args.json)
    client = client or ApiClient.from_env()
    try:
        return args.run(args, client, out)
    except CliError as exc:
        out.error(f"avocet: {exc}")
        return exc.code
    except KeyboardInterrupt:
        out.error("\navocet: interrupted")
        return INTERRUPTED
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())

"""`python -m api [--host 127.0.0.1] [--port 8000]`: serve the API (and the built web UI) with uvicorn.

Any address but loopback needs AVOCET_API_TOKEN (README "Security model"); without one it refuses to start and says
how to set one (exit code 2). AVOCET_ALLOW_UNAUTHENTICATED_REMOTE=1 overrides that, with a warning.
"""

import argparse
import logging
import sys

import uvicorn

from api.security import exposure_problem
from shared.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: localhost only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if problem := exposure_problem(args.host, get_settings()):
        print(f"python -m api: {problem}", file=sys.stderr)
        sys.exit(2)
    uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()

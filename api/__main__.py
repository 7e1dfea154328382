"""`python -m api [--host 127.0.0.1] [--port 8000]`: serve the API (and the built web UI) with uvicorn."""

import argparse
import logging

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: localhost only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()

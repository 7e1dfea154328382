"""Stand-in for `python -m worker.training --json` in unit tests: prints contract-shaped JSON lines.

python tests/fake_cli.py [--steps N] [--delay S] [--error MSG] [--exit CODE] [--grandchild PIDFILE] [--noise]
"""

import argparse
import json
import subprocess
import sys
import time


def emit(type_: str, message: str, **fields) -> None:
    print(json.dumps({"type": type_, "message": message, **fields}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--error", help="end with an error line and exit 2")
    parser.add_argument("--exit", type=int, default=0, help="exit code without a final line when non-zero")
    parser.add_argument("--grandchild", help="start a long-lived helper process and write its pid here")
    parser.add_argument("--noise", action="store_true", help="print a non-JSON line and some stderr")
    args, _ = parser.parse_known_args()
    if args.grandchild:
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(args.grandchild, "w") as f:
            f.write(str(helper.pid))
    emit("start", "fake start", model="minilm", device="cpu", samples=12, labels=3, train_samples=9, val_samples=3)
    if args.noise:
        print("plain text line", flush=True)
        print("something on stderr", file=sys.stderr, flush=True)
    for step in range(1, args.steps + 1):
        time.sleep(args.delay)
        emit("progress", f"step {step}", epoch=step / args.steps, step=step, total=args.steps, loss=1.0 / step,
             learning_rate=1e-4)
    emit("eval", "eval", epoch=1.0, step=args.steps, total=args.steps, f1=0.5, accuracy=0.6, loss=0.9)
    if args.error:
        emit("error", args.error, reason="bad_input")
        return 2
    if args.exit:
        print("Traceback: boom", file=sys.stderr, flush=True)
        return args.exit
    emit("complete", "saved fake", name="fake", model_dir="/tmp/fake", val_macro_f1=0.5, val_accuracy=0.6,
         epochs_run=1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

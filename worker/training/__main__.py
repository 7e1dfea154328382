import sys

if sys.argv[1:2] == ["pull"]:  # `python -m worker.training pull <name>`: the pre-fetch (worker/training/pull.py)
    from worker.training.pull import main as pull_main

    sys.exit(pull_main(sys.argv[2:]))

from worker.training.cli import main  # noqa: E402

sys.exit(main())

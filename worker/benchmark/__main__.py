import sys

from worker.benchmark.cli import main

sys.exit(main())

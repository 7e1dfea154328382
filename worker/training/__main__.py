import sys

from worker.training.cli import main

sys.exit(main())

import sys

from worker.scoring.cli import main

sys.exit(main())

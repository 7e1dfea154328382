import sys

from worker.audit.cli import main

sys.exit(main())

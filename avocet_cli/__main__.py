"""`python -m avocet_cli ...`, the same as the `avocet` console script."""

import sys

from avocet_cli.main import main

sys.exit(main())

"""The `avocet` ops CLI: jobs, datasets and models through the HTTP API (see avocet_cli/main.py)."""

"""The label audit job's CLI child: `python -m worker.audit` (cli.py); the model code is classifiers/label_audit.py."""

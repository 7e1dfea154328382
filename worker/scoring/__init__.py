"""The score job's CLI child: `python -m worker.scoring` (cli.py); the model code is classifiers/label_next.py and
classifiers/batch_scoring.py."""

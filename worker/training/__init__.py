"""The fine-tune recipe: `python -m worker.training` (cli.py), pipeline.py (data, Trainer, publish), encoding,
the weighted Trainer, callbacks, metrics and model loading. No Celery and no Redis in here."""

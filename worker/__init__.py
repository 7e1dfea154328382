"""The GPU worker: Celery app and tasks, plus the training and inference code they call."""

from worker.celery_app import app  # noqa: E402,F401  (`celery -A worker ...` finds the app here)

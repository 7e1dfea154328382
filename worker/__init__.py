"""The GPU worker, by concern: queue/ (Celery app, tasks, job runner), training/ (the fine-tune recipe and its CLI),
inference/ (classifying with published models and the other classifier adapters), benchmark/ (comparing them)."""

"""The queue side: the Celery app (`celery -A worker.queue.app`), its tasks and signal handlers, the job runner and
the supervision of the training child process. Nothing outside this package imports Celery."""

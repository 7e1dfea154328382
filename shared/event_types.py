"""The event words the parts of the service branch on (docs/contracts.md), declared once and importing nothing, so
the training child, the worker, the API, the `avocet` CLI and perf scripts read these, and the web view gets them as
generated constants (the OpenAPI schema's `x-terminal-types`, scripts/gen-web-types)."""

TERMINAL_TYPES = ("complete", "error")  # a job's last event; each job has exactly one
# Which fields of which events make up a job's progress (the snapshot its record keeps: shared/progress.py).
PROGRESS_FIELDS = {
    "progress": ("epoch", "step", "total", "loss"),
    "eval": ("epoch", "step", "total", "f1", "accuracy"),
}
# The publish hand-shake: the training child prints an event of type PUBLISH_REQUEST and publishes its model only if
# the worker answers PUBLISH on its stdin (ABORT otherwise: the job is no longer the worker's, or a stop was asked).
PUBLISH_REQUEST = "publish_request"
PUBLISH = "publish"
ABORT = "abort"

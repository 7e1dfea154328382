"""Code shared by the API and the worker: settings, labels, data loading, job/event store. No torch, no FastAPI."""

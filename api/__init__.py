"""The HTTP API: FastAPI app, job submission, SSE event streams and the built web UI."""

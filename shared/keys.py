"""Every Redis key, pub/sub channel, Celery queue and task name the service uses, in one place.

The API, the worker and the tests build names only through this module, so a rename happens here once.
"""

PREFIX = "avocet"

# Celery: one queue for everything that needs the GPU, so training and benchmarks never run side by side.
QUEUE = "gpu"
TASK_FINETUNE = "avocet.finetune"
TASK_BENCHMARK = "avocet.benchmark"
TASKS = {"finetune": TASK_FINETUNE, "benchmark": TASK_BENCHMARK}
KIND_OF_TASK = {name: kind for kind, name in TASKS.items()}

# Indexes over all jobs (sorted sets; score = submission sequence number, so order = submission order).
JOB_SEQ = f"{PREFIX}:jobs:seq"
JOBS_ALL = f"{PREFIX}:jobs"
JOBS_QUEUED = f"{PREFIX}:jobs:queued"
JOBS_RUNNING = f"{PREFIX}:jobs:running"

# Channel the API's event reader subscribes to at start-up so its connection always exists; nothing publishes here.
HUB_CHANNEL = f"{PREFIX}:hub"


def job(job_id: str) -> str:
    """Hash holding the job record (each field JSON-encoded)."""
    return f"{PREFIX}:job:{job_id}"


def event_seq(job_id: str) -> str:
    """Counter that hands out the job's event ids (1, 2, 3, ...)."""
    return f"{PREFIX}:job:{job_id}:seq"


def event_stream(job_id: str) -> str:
    """Capped Redis Stream keeping the job's events for replay; entry id is 0-<event id>."""
    return f"{PREFIX}:job:{job_id}:events"


def event_channel(job_id: str) -> str:
    """Pub/sub channel carrying the job's events live."""
    return f"{PREFIX}:job:{job_id}:live"


def cancel_flag(job_id: str) -> str:
    """Set when someone asks the job to stop; value is the reason ("cancel" or "shutdown")."""
    return f"{PREFIX}:job:{job_id}:cancel"


def job_alive(job_id: str) -> str:
    """Heartbeat of a running job, refreshed by its worker with a short TTL: missing = the worker is gone."""
    return f"{PREFIX}:job:{job_id}:alive"


def worker_alive(hostname: str) -> str:
    """Heartbeat of a worker process (TTL), listed by /api/health."""
    return f"{PREFIX}:worker:{hostname}"


WORKER_ALIVE_PATTERN = f"{PREFIX}:worker:*"

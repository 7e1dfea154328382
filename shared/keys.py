"""Every Redis key, pub/sub channel, Celery queue and task name the service uses, in one place.

The API, the worker and the tests build names only through this module, so a rename happens here once.
"""

PREFIX = "avocet"

# Celery: one queue for everything that needs the GPU, so training and benchmarks never run side by side.
QUEUE = "gpu"
TASK_FINETUNE = "avocet.finetune"
TASK_BENCHMARK = "avocet.benchmark"
TASK_AUDIT = "avocet.audit"
TASK_SCORE = "avocet.score"
TASKS = {"finetune": TASK_FINETUNE, "benchmark": TASK_BENCHMARK, "audit": TASK_AUDIT, "score": TASK_SCORE}
KIND_OF_TASK = {name: kind for kind, name in TASKS.items()}
SOURCE_HEADER = "avocet_source"  # task message header: who queued it when not `celery call` (the worker's follow-ups)

# Celery's Redis transport (kombu): a queue is a list per priority step (the bare name holds priority 0, the
# default), and a message taken by a worker but not yet acknowledged sits in the `unacked` hash. Read only by the
# check for queued jobs whose task message is gone (shared/job_reaper.py).
BROKER_QUEUE_KEYS = (QUEUE, *(f"{QUEUE}\x06\x16{step}" for step in (3, 6, 9)))
BROKER_UNACKED = "unacked"

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


def job_suspect(job_id: str) -> str:
    """When (Redis clock, unix seconds) a check first found the job without a sign of life: a running job without
    its heartbeat, or a queued job without its task message. It is failed only if that lasts (shared/job_reaper.py)."""
    return f"{PREFIX}:job:{job_id}:suspect"


# Sorted set of workers: member = worker hostname (e.g. gpu@box), score = its last heartbeat (unix seconds). Each
# worker ZADDs itself every few seconds and ZREMs itself on shutdown; /api/health lists the members seen recently,
# so it reads one key instead of scanning the keyspace.
WORKERS = f"{PREFIX}:workers"


def worker_name(hostname: str) -> str:
    """Which live worker process holds a Celery node name (worker/queue/worker_name.py); short TTL, refreshed."""
    return f"{PREFIX}:worker:{hostname}:holder"


def session(id_hash: str) -> str:
    """A web view session (api/sessions.py): the sha256 of its id -> the token fingerprint, TTL = its max age."""
    return f"{PREFIX}:session:{id_hash}"

"""The worker's Redis client for the job store and event log (one per process; redis-py pools survive the fork).

Short timeouts and a single quick retry (a connection dropped by a Redis restart is reopened at once): while Redis
is unreachable a call fails within seconds instead of blocking the run, and the job's link (job_link.py) holds its
events until Redis answers again.
"""

from functools import lru_cache

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from shared.settings import get_settings

SOCKET_TIMEOUT_S = 3.0


@lru_cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, decode_responses=True, socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S, retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 1),
        health_check_interval=30,
    )  # fmt: skip

"""The worker's Redis client for the job store and event log (one per process; redis-py pools survive the fork)."""

from functools import lru_cache

import redis

from shared.settings import get_settings


@lru_cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, decode_responses=True)

"""/api/health reads workers from one sorted set (keys.WORKERS: name -> last heartbeat), never a keyspace scan.
A real Redis (so integration): its INFO commandstats counts the scans, which fakeredis does not keep."""

import time

from shared import keys


def _scans(redis_client) -> int:
    return int(redis_client.info("commandstats").get("cmdstat_scan", {}).get("calls", 0))


def test_health_lists_workers_seen_recently_without_scanning(make_client, real_redis_client, redis_server):
    redis_client = real_redis_client
    client = make_client(redis_url=redis_server)
    assert client.get("/api/health").json() == {
        "status": "degraded", "redis": True, "workers": [], "queue_length": 0, "running": 0,
    }  # fmt: skip
    now = time.time()
    redis_client.zadd(keys.WORKERS, {"gpu@b": now - 2, "gpu@a": now, "gpu@gone": now - 120, "gpu@ancient": now - 2e5})
    for i in range(2000):  # a big keyspace must not make health slower
        redis_client.set(f"avocet:job:{i}:alive", "1")
    scans = _scans(redis_client)
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["workers"] == ["gpu@a", "gpu@b"]  # gpu@gone: silent for 2 minutes
    assert _scans(redis_client) == scans
    assert redis_client.zscore(keys.WORKERS, "gpu@ancient") is None  # silent for over a day: forgotten
    assert redis_client.zscore(keys.WORKERS, "gpu@gone") is not None

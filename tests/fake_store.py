"""The unit tier's Redis: fakeredis (its Lua runs the store's scripts) with the one reply it lacks, INFO's
uptime_in_seconds, which the reaper reads (shared/job_reaper.py). `route_api_to(server)` makes every app built by
api.main.create_app reach `server` at FAKE_URL while any other URL still gets a real client."""

import time
from contextlib import contextmanager

import fakeredis
import pytest
from redis.asyncio import Redis as RealAsyncRedis

FAKE_URL = "redis://fakeredis.invalid:6379/0"


def new_server() -> fakeredis.FakeServer:
    server = fakeredis.FakeServer()
    server.started_at = time.monotonic()
    return server


def _info(server: fakeredis.FakeServer) -> dict:
    return {"uptime_in_seconds": int(time.monotonic() - server.started_at), "redis_version": "fakeredis"}


class FakeRedis(fakeredis.FakeRedis):
    def __init__(self, *, server: fakeredis.FakeServer, **options) -> None:
        super().__init__(server=server, **options)
        self.fake_server = server

    def info(self, section=None, *args, **kwargs) -> dict:
        return _info(self.fake_server)


class FakeAsyncRedis(fakeredis.FakeAsyncRedis):
    def __init__(self, *, server: fakeredis.FakeServer, **options) -> None:
        super().__init__(server=server, **options)
        self.fake_server = server

    async def info(self, section=None, *args, **kwargs) -> dict:
        return _info(self.fake_server)


@contextmanager
def route_api_to(server: fakeredis.FakeServer):
    """api.main's Redis.from_url answers FAKE_URL with a client of `server`."""
    import api.main

    class RoutedRedis:
        @staticmethod
        def from_url(url: str, **options):
            if url != FAKE_URL:
                return RealAsyncRedis.from_url(url, **options)
            return FakeAsyncRedis(server=server, decode_responses=options.get("decode_responses", False))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.main, "Redis", RoutedRedis)
        yield FAKE_URL

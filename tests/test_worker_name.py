"""One live worker per name (issue 16, item 8): a second worker under a live one's name is refused at start; one
restarted after its predecessor died gets the name once the dead one's key expires."""

import threading

import pytest

from worker.queue import worker_name


def test_a_live_name_is_refused_with_a_message(redis_client):
    worker_name.hold(redis_client, "gpu@box", "first")
    stop = threading.Event()
    threading.Thread(target=worker_name.keep, args=(redis_client, "gpu@box", "first", stop), daemon=True).start()
    try:
        with pytest.raises(worker_name.DuplicateWorkerName, match="already running .*first.*another name with -n"):
            worker_name.hold(redis_client, "gpu@box", "second", wait_s=worker_name.REFRESH_EVERY_S + 1)
    finally:
        stop.set()
    worker_name.hold(redis_client, "gpu2@box", "second", wait_s=0)  # another name is fine


def test_a_dead_holder_gives_way_and_a_warm_shutdown_frees_the_name_at_once(redis_client, monkeypatch):
    worker_name.hold(redis_client, "gpu@box", "dead")
    redis_client.expire("avocet:worker:gpu@box:holder", 1)  # its key runs out as a killed worker's would
    worker_name.hold(redis_client, "gpu@box", "restarted", wait_s=5)
    assert worker_name.claim(redis_client, "gpu@box", "restarted") is None
    worker_name.release(redis_client, "gpu@box", "someone-else")  # not theirs: kept
    assert worker_name.claim(redis_client, "gpu@box", "third") == "restarted"
    worker_name.release(redis_client, "gpu@box", "restarted")
    worker_name.hold(redis_client, "gpu@box", "third", wait_s=0)

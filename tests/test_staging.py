"""Staging folders of runs in progress: a dead run's leftovers are removed whatever host made them, a live run's
never (two workers may share the models volume), and a finished run leaves nothing behind."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from service_helpers import REPO, wait_until

from shared import model_store

OWNER = """
import sys, time
from shared.model_store import staging_dir
print(staging_dir(sys.argv[1], "m"), flush=True)
time.sleep(600)
"""


def _start_owner(models_dir):
    """Another process (as another worker's training run would be) that holds a staging folder."""
    process = subprocess.Popen([sys.executable, "-c", OWNER, str(models_dir)], cwd=REPO, stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    folder = Path(process.stdout.readline().strip())
    assert folder.is_dir()
    return process, folder


def test_a_live_runs_folder_stays_and_a_dead_ones_goes(tmp_path):
    process, folder = _start_owner(tmp_path)
    try:
        assert model_store.clean_stale_staging(tmp_path) == [] and folder.is_dir()
        renamed = folder.with_name("some-other-host-4242-" + folder.name.split("-", 2)[2])  # made on another box
        folder.rename(renamed)
        model_store._lock_of(folder).rename(model_store._lock_of(renamed))
        assert model_store.clean_stale_staging(tmp_path) == [] and renamed.is_dir()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert model_store.clean_stale_staging(tmp_path) == [renamed]
    assert list((tmp_path / model_store.STAGING).iterdir()) == []


def test_folders_without_a_lock_go_only_when_provably_dead(tmp_path):
    root = tmp_path / model_store.STAGING
    host = socket.gethostname()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    legacy_dead, legacy_alive = root / f"{host}-{dead.stdout.strip()}-m", root / f"{host}-{os.getpid()}-m"
    foreign, retired = root / "other-box-12345-m", root / "retired-avocet-m-1"
    for folder in (legacy_dead, legacy_alive, foreign, retired):
        folder.mkdir(parents=True)
    assert sorted(model_store.clean_stale_staging(tmp_path)) == sorted([legacy_dead, retired])
    assert legacy_alive.is_dir() and foreign.is_dir()  # alive here / another host's: not provably dead


def test_a_lock_file_alone_goes_only_once_old(tmp_path):
    root = tmp_path / model_store.STAGING
    root.mkdir()
    young, old = root / "h-1-aaaa-m.lock", root / "h-2-bbbb-m.lock"
    young.touch()
    old.touch()
    past = time.time() - model_store.ORPHAN_LOCK_AGE_S - 5
    os.utime(old, (past, past))
    model_store.clean_stale_staging(tmp_path)
    assert young.exists() and not old.exists()  # young: a run may be between its lock and its folder


def test_a_published_or_discarded_run_leaves_nothing(tmp_path):
    staged = model_store.staging_dir(tmp_path, "m")
    (staged / "weights").write_text("w")
    assert model_store.clean_stale_staging(tmp_path) == []  # its own process's folder
    staged.rename(tmp_path / "published")
    model_store.release_staging(staged)
    other = model_store.staging_dir(tmp_path, "m")
    model_store.discard_staging(other)
    assert list((tmp_path / model_store.STAGING).iterdir()) == []


def test_the_worker_cleans_dead_runs_at_start(tmp_path, monkeypatch, redis_client):
    from worker.queue import signals

    process, folder = _start_owner(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    monkeypatch.setattr(signals, "_client", lambda: redis_client)
    monkeypatch.setattr(signals, "get_settings", lambda: type("Settings", (), {"models_dir": tmp_path})())
    monkeypatch.setattr(signals.threading, "Thread", _NoThread)
    signals.reap_and_beat(sender=type("Worker", (), {"hostname": "w@test"})())
    wait_until(lambda: not folder.exists(), 5, "the dead run's folder to go")


class _NoThread:
    """The worker's heartbeat thread, not started here."""

    def __init__(self, *args, **kwargs):
        pass

    def start(self):
        pass

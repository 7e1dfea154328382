"""Predict's engine, one per app (app.state.predictor, made on first use): which folder a (name, version) means, a
small LRU of loaded models, and the gate that bounds the work.

- The API starts without torch: the first predict of a model imports torch and loads the model in a worker thread,
  so the event loop keeps serving; concurrent first requests for one model share that one load.
- Cache key (name, version). Without a version the current one is used, so the next predict after a publish loads
  the new version. An entry also remembers its config.json's identity (inode, mtime): a folder replaced under the same
  number (a model deleted and trained again, a legacy folder replaced) is loaded afresh.
- The gate: predict_concurrency requests compute at once (each in its own thread of a pool that size), at most
  predict_queue wait; past that, Overloaded (503 + Retry-After), so a burst is refused at once and never piles up.
- Models published before versions existed (models/avocet-<name> a plain folder) are served as version 1, read
  only: the API may mount the models volume read-only, so nothing here writes.
"""

import asyncio
import logging
import math
import os
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import model_versions
from shared.model_store import model_dir
from shared.settings import Settings

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
LIST_HINT = "GET /api/models lists the published models and their versions"


class ModelNotFound(LookupError):
    """No such model or version; the message is the 404's detail."""


class Overloaded(RuntimeError):
    def __init__(self, retry_after: int):
        super().__init__(f"too many predict requests at once: retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int
    folder: Path
    stamp: tuple[int, int]  # (inode, mtime_ns) of config.json: which files this version is


def resolve(models_dir: Path, name: str, version: int | None) -> ModelRef:
    """The folder to load for `name` at `version` (None: the current one); ModelNotFound saying what exists."""
    current = model_versions.current_version(models_dir, name)
    legacy = model_dir(models_dir, name)
    if current is None and not legacy.is_symlink() and (legacy / CONFIG_FILE).is_file():
        if version not in (None, 1):
            raise ModelNotFound(f"model {name!r} has no version {version}: it has only version 1 ({LIST_HINT})")
        return _ref(name, 1, legacy)
    wanted = current if version is None else version
    if wanted is None:
        raise ModelNotFound(f"no published model {name!r}: {LIST_HINT}")
    try:
        return _ref(name, wanted, model_versions.version_dir(models_dir, name, wanted))
    except FileNotFoundError:
        known = model_versions.list_versions(models_dir, name)
        raise ModelNotFound(f"model {name!r} has no version {wanted}: versions are {known} ({LIST_HINT})") from None


def _ref(name: str, version: int, folder: Path) -> ModelRef:
    info = os.stat(folder / CONFIG_FILE)
    return ModelRef(name, version, folder, (info.st_ino, info.st_mtime_ns))


def load_adapter(folder: Path):
    """The default loader (runs in a pool thread): the FineTunedAdapter, warmed up so the first request is fast and
    the tokenizer's settings are fixed before two threads share it."""
    from worker.inference.fine_tuned import FineTunedAdapter

    started = time.perf_counter()
    adapter = FineTunedAdapter(folder)
    adapter.logits([("warm-up", "a first call sets the tokenizer up and allocates the kernels")])
    log.info("loaded predict model %s in %.2f s", folder, time.perf_counter() - started)
    return adapter


def predictions(adapter, emails: Sequence[tuple[str, str]], top_k: int) -> list[dict[str, Any]]:
    """Per email: the label (the adapter's classify_batch answer), its probability and the top_k labels. Sorting the
    logits stably puts first the label argmax picks, ties included, so `label` is always top[0]."""
    logits = adapter.logits(emails)
    probabilities = logits.softmax(-1)
    order = logits.argsort(dim=-1, descending=True, stable=True)[:, : min(top_k, len(adapter.labels))]
    scores = probabilities.gather(-1, order)
    result = []
    for ids, values in zip(order.tolist(), scores.tolist()):
        top = [{"label": adapter.labels[i], "score": s} for i, s in zip(ids, values)]
        result.append({"label": top[0]["label"], "score": top[0]["score"], "top": top})
    return result


class Gate:
    """At most `running` holders at once and `waiting` in line; past that Overloaded, with a Retry-After from the
    recent time per request."""

    def __init__(self, running: int, waiting: int):
        self._semaphore = asyncio.Semaphore(running)
        self._running, self._max_waiting, self.waiting = running, waiting, 0
        self._mean_s = 0.1

    @asynccontextmanager
    async def slot(self):
        if self._semaphore.locked() and self.waiting >= self._max_waiting:
            raise Overloaded(max(1, math.ceil(self._mean_s * (self.waiting + self._running) / self._running)))
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        started = time.perf_counter()
        try:
            yield
        finally:
            self._semaphore.release()
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.perf_counter() - started)


class Predictor:
    def __init__(self, settings: Settings, loader: Callable[[Path], Any] = load_adapter):
        self.models_dir = settings.models_dir
        self.loader = loader
        self.cache_size = settings.predict_cache_size
        self.gate = Gate(settings.predict_concurrency, settings.predict_queue)
        self._pool = ThreadPoolExecutor(settings.predict_concurrency, thread_name_prefix="avocet-predict")
        weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        self._cache: OrderedDict[tuple[str, int], tuple[tuple[int, int], Any]] = OrderedDict()
        self._loading: dict[tuple[str, int, tuple[int, int]], asyncio.Future] = {}

    async def predict(self, name: str, version: int | None, emails: Sequence[tuple[str, str]], top_k: int) -> dict:
        """{"model", "version", "labels", "predictions"}; ModelNotFound before any wait, Overloaded when full."""
        ref = resolve(self.models_dir, name, version)
        async with self.gate.slot():
            adapter = await self._adapter(ref)
            found = await self._in_thread(predictions, adapter, emails, top_k)
        return {"model": name, "version": ref.version, "labels": list(adapter.labels), "predictions": found}

    def loaded(self) -> list[tuple[str, int]]:
        """The cached (name, version) keys, least recently used first."""
        return list(self._cache)

    async def _adapter(self, ref: ModelRef):
        key = (ref.name, ref.version)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == ref.stamp:
            self._cache.move_to_end(key)
            return cached[1]
        pending = self._loading.get((*key, ref.stamp))
        if pending is None:
            pending = asyncio.ensure_future(self._in_thread(self._load, ref))
            self._loading[(*key, ref.stamp)] = pending
            pending.add_done_callback(lambda done: self._store(ref, done))
        return await asyncio.shield(pending)  # a caller that goes away does not cancel the others' load

    def _load(self, ref: ModelRef):
        try:
            return self.loader(ref.folder)
        except FileNotFoundError:  # removed (pruned, deleted) between resolve and load
            raise ModelNotFound(f"model {ref.name!r} version {ref.version} was just removed ({LIST_HINT})") from None

    def _store(self, ref: ModelRef, done: asyncio.Future) -> None:
        self._loading.pop((ref.name, ref.version, ref.stamp), None)
        if done.cancelled() or done.exception() is not None:
            return
        self._cache[(ref.name, ref.version)] = (ref.stamp, done.result())
        self._cache.move_to_end((ref.name, ref.version))
        while len(self._cache) > self.cache_size:
            evicted, _ = self._cache.popitem(last=False)
            log.info("predict cache: unloaded %s version %s", *evicted)

    async def _in_thread(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

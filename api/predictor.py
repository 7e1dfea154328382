"""Predict's engine, one per app (app.state.predictor, made on first use): a small LRU of loaded models and the
bounded queue the work goes through.

- The API starts without torch: the first predict of a model imports torch and loads the model in a worker thread,
  so the event loop keeps serving; concurrent first requests for one model share that one load.
- Cache key (name, version). Without a version the current one is used, so the next predict after a publish loads
  the new version. An entry also remembers its config.json's identity (inode, mtime): a folder replaced under the same
  number (a model deleted and trained again, a legacy folder replaced) is loaded afresh.
- Bounds: at most predict_concurrency + predict_queue requests are inside at once; past that, Overloaded (503 +
  Retry-After) at once, so a burst never piles up. predict_concurrency batches compute at once, each in a pool thread
  with its share of the cores (_share_cores); requests for one model that wait while it computes go together as the
  next batch (up to MAX_BATCH_EMAILS), which is what makes many small requests cheap. A batch that is all the
  predictor has to do (nothing else running, waiting or loading) runs alone on every core and holds the others back
  until it ends: a lone interactive request is not left on one core while the rest idle. A request alone is one
  FineTunedAdapter.probabilities call (the ensemble's, when the version has an n-gram part), so its labels are
  exactly classify_batch's; batched with others they are
  classify_batch's for the combined list (bf16 rounding may then flip a near-tie, as it may between classify and
  classify_batch).
- The first load still holds the GIL for about 0.2 s while torch's libraries load (perf/predict.py prints the
  slowest /api/health answer during it).
- Which folder a (name, version) means is shared/model_refs.py's; nothing here writes (the models volume may be
  mounted read-only).
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
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from shared.model_refs import LIST_HINT, ModelNotFound, ModelRef, resolve
from shared.settings import Settings

log = logging.getLogger(__name__)

MAX_BATCH_EMAILS = 64
Email = tuple[str, str]


class Overloaded(RuntimeError):
    def __init__(self, retry_after: int):
        super().__init__(f"too many predict requests at once: retry in {retry_after} s")
        self.retry_after = retry_after


def load_adapter(folder: Path):
    """The default loader (runs in a pool thread): the FineTunedAdapter, warmed up so the first request is fast and
    the tokenizer's settings are fixed before two threads share it."""
    from classifiers.fine_tuned import FineTunedAdapter

    started = time.perf_counter()
    adapter = FineTunedAdapter(folder)
    adapter.probabilities([("warm-up", "a first call sets the tokenizer up and allocates the kernels")])
    log.info("loaded predict model %s in %.2f s", folder, time.perf_counter() - started)
    return adapter


def batch_predictions(adapter, requests: Sequence[tuple[Sequence[Email], int]]) -> list[list[dict[str, Any]]]:
    """One adapter.probabilities call for the emails of all `requests` ((emails, top_k) pairs); their predictions,
    split back.

    Per email: the label, its probability and the top_k labels. The probabilities are sorted stably, so top[0] is the label
    argmax (classify_batch) picks, ties included."""
    probabilities = adapter.probabilities([email for emails, _ in requests for email in emails])
    order = probabilities.argsort(dim=-1, descending=True, stable=True)
    results, start = [], 0
    for emails, top_k in requests:
        ids = order[start : start + len(emails), : min(top_k, len(adapter.labels))]
        scores = probabilities[start : start + len(emails)].gather(-1, ids)
        results.append([_prediction(adapter.labels, row, values) for row, values in zip(ids.tolist(), scores.tolist())])
        start += len(emails)
    return results


def _prediction(labels: Sequence[str], ids: list[int], scores: list[float]) -> dict[str, Any]:
    top = [{"label": labels[i], "score": s} for i, s in zip(ids, scores)]
    return {"label": top[0]["label"], "score": top[0]["score"], "top": top}


@dataclass(eq=False)
class Job:
    adapter: Any
    emails: Sequence[Email]
    top_k: int
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Predictor:
    def __init__(self, settings: Settings, loader: Callable[[Path], Any] = load_adapter):
        self.models_dir, self.loader = settings.models_dir, loader
        self.cache_size, self.concurrency = settings.predict_cache_size, settings.predict_concurrency
        self.limit = settings.predict_concurrency + settings.predict_queue
        self.in_flight, self._running, self._waiting = 0, 0, []
        self._mean_s = 0.1  # recent seconds per request, for Retry-After
        self.share = max(1, (_cores() - 1) // self.concurrency)  # one core stays with the event loop
        self.wide = max(self.share, _cores())  # a batch alone: the event loop has nothing else to do meanwhile
        self._wide_running = False
        self._pool = ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="avocet-predict", initializer=_share_cores, initargs=(self.share,)
        )
        weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        self._cache: OrderedDict[tuple[str, int], tuple[tuple[int, int], Any]] = OrderedDict()
        self._loading: dict[tuple[str, int, tuple[int, int]], asyncio.Future] = {}

    async def predict(self, name: str, version: int | None, emails: Sequence[Email], top_k: int) -> dict:
        """{"model", "version", "labels", "predictions"}; ModelNotFound before any wait, Overloaded when full."""
        ref = resolve(self.models_dir, name, version)
        if self.in_flight >= self.limit:
            raise Overloaded(max(1, math.ceil(self._mean_s * self.in_flight / self.concurrency)))
        self.in_flight += 1
        started = time.perf_counter()
        try:
            adapter = await self._adapter(ref)
            job = Job(adapter, emails, top_k)
            self._waiting.append(job)
            self._dispatch()
            found = await job.future
        finally:
            self.in_flight -= 1
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.perf_counter() - started)
        return {"model": name, "version": ref.version, "labels": list(adapter.labels), "predictions": found}

    def loaded(self) -> list[tuple[str, int]]:
        """The cached (name, version) keys, least recently used first."""
        return list(self._cache)

    def _dispatch(self) -> None:
        """Start batches while threads are free: the oldest waiting request plus later ones for the same model."""
        self._waiting = [job for job in self._waiting if not job.future.done()]  # drop callers that went away
        while self._running < self.concurrency and self._waiting and not self._wide_running:
            first, size, batch = self._waiting[0], 0, []
            for job in [job for job in self._waiting if job.adapter is first.adapter]:
                if batch and size + len(job.emails) > MAX_BATCH_EMAILS:
                    break
                batch.append(job)
                size += len(job.emails)
            self._waiting = [job for job in self._waiting if job not in batch]
            wide = self.wide > self.share and self._running == 0 and not self._waiting and not self._loading
            self._running, self._wide_running = self._running + 1, wide
            work = [(job.emails, job.top_k) for job in batch]
            threads = self.wide if wide else self.share
            done = asyncio.get_running_loop().run_in_executor(
                self._pool, _on_threads, threads, self.share, batch_predictions, first.adapter, work
            )
            done.add_done_callback(partial(self._finished, batch))

    def _finished(self, batch: list[Job], done: asyncio.Future) -> None:
        self._running, self._wide_running = self._running - 1, False
        for index, job in enumerate(batch):
            if job.future.done():  # its caller went away
                continue
            if done.cancelled():  # the pool shut down
                job.future.cancel()
            elif done.exception() is not None:
                job.future.set_exception(done.exception())
            else:
                job.future.set_result(done.result()[index])
        self._dispatch()

    async def _adapter(self, ref: ModelRef):
        key = (ref.name, ref.version)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == ref.stamp:
            self._cache.move_to_end(key)
            return cached[1]
        pending = self._loading.get((*key, ref.stamp))
        if pending is None:
            pending = asyncio.get_running_loop().run_in_executor(self._pool, self._load, ref)
            self._loading[(*key, ref.stamp)] = pending
            pending.add_done_callback(partial(self._store, ref))
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

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _cores() -> int:
    """The cores this process may run on (its affinity, e.g. a container's cpuset), else the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _on_threads(threads: int, share: int, fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) with `threads` torch threads in this pool thread, then back to its share."""
    import torch

    if threads == share:
        return fn(*args)
    torch.set_num_threads(threads)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(share)


def _share_cores(threads: int) -> None:
    """Pool thread start: give torch this thread's share of the cores, one core left to the event loop, so batches and
    the loop never oversubscribe them. An OpenMP team that shares its cores stalls at every barrier: on the 2-core box,
    one batch at a time with 2 torch threads served 12 single-email requests/s with a 2 s p99, two batches with one
    thread each 72/s with 0.26 s (perf/predict.py). The answers do not depend on it (bitwise). torch is imported here,
    in the thread, when the first predict needs it."""
    import torch

    torch.set_num_threads(threads)

"""Scoring: one candidate at a time on the validation rows, timed, each result shaped as docs/contracts.md says.

A candidate that cannot be loaded or fails while classifying becomes an unavailable result with its reason; the run
goes on. Models are released after scoring, so a large zero-shot model never sits beside the next one in memory.
"""

import gc
import logging
import time
from collections.abc import Callable

from shared.data import Example
from classifiers.base import AdapterUnavailable
from worker.benchmark.candidates import Candidate
from worker.training.metrics import classification_report

logger = logging.getLogger(__name__)

PROGRESS_FIELDS = ("name", "kind", "available", "reason", "macro_f1", "accuracy", "ms_per_email")


def run_candidates(
    candidates: list[Candidate], val: list[Example], labels: list[str], emit: Callable[..., None]
) -> list[dict]:
    """Score each in turn: a `log` line before, a `progress` line with its result after (step/total for the job)."""
    results = []
    for step, candidate in enumerate(candidates, start=1):
        if candidate.note:
            emit("warning", f"{candidate.name}: {candidate.note}")
        emit("log", f"scoring {candidate.name} ({candidate.kind}), {step}/{len(candidates)}")
        result = score(candidate, val, labels)
        results.append(result)
        summary = {k: result[k] for k in PROGRESS_FIELDS}
        emit("progress", _progress_message(result, step, len(candidates)), step=step, total=len(candidates), **summary)
    return results


def score(candidate: Candidate, val: list[Example], labels: list[str]) -> dict:
    if candidate.refusal:
        return unavailable(candidate, candidate.refusal)
    try:
        adapter = candidate.build()
    except AdapterUnavailable as exc:
        return unavailable(candidate, str(exc))
    except Exception as exc:  # a broken model folder or library error must not end the whole run
        logger.exception("loading %s failed", candidate.name)
        return unavailable(candidate, f"could not load: {exc}")
    try:
        rows = [(e.subject, e.body) for e in val]
        adapter.classify_batch(rows[:1])  # warm-up: first-call set-up is load cost, not per-email cost
        started = time.perf_counter()
        predicted = adapter.classify_batch(rows)
        seconds = time.perf_counter() - started
        model_labels = list(adapter.labels)
    except Exception as exc:
        logger.exception("classifying with %s failed", candidate.name)
        return unavailable(candidate, f"failed while classifying: {exc}")
    finally:
        del adapter
        _release_memory()
    report = classification_report([e.label for e in val], predicted, labels)
    return {
        "name": candidate.name, "kind": candidate.kind, "available": True, "reason": None,
        "macro_f1": round(report["macro_f1"], 5), "accuracy": round(report["accuracy"], 5),
        "ms_per_email": round(1000 * seconds / max(1, len(rows)), 3),
        "per_class_f1": {label: round(f1, 5) for label, f1 in report["per_class_f1"].items()},
        "labels": model_labels,
    }  # fmt: skip


def unavailable(candidate: Candidate, reason: str) -> dict:
    return {
        "name": candidate.name, "kind": candidate.kind, "available": False, "reason": reason,
        "macro_f1": None, "accuracy": None, "ms_per_email": None, "per_class_f1": None, "labels": None,
    }  # fmt: skip


def _progress_message(result: dict, step: int, total: int) -> str:
    if not result["available"]:
        return f"{step}/{total} {result['name']}: unavailable: {result['reason']}"
    return (
        f"{step}/{total} {result['name']}: macro-F1 {result['macro_f1']:.4f}, accuracy {result['accuracy']:.4f}, "
        f"{result['ms_per_email']:.2f} ms/email"
    )


def _release_memory() -> None:
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()

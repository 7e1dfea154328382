"""A running job's progress, computed once, on the worker, from its child's `progress` and `eval` events: the
snapshot its record keeps and `estimated_finish`, which the API, the web view and the `avocet` CLI show as they are.

The estimate is now + the steps left at the pace measured since the first reported step (model loading and
tokenising excluded); until a second step is reported, at the pace since the run started.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.event_types import PROGRESS_FIELDS


class ProgressTracker:
    def __init__(self, started: datetime) -> None:
        self.snapshot: dict[str, Any] = {}
        self._base = (started, 0)  # (time, step) the pace is measured from
        self._measured = False  # the base is a reported step, not the start

    def update(self, type_: str, data: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """Fold a `progress` or `eval` event in; the snapshot, with `estimated_finish` once there is a pace."""
        now = now or datetime.now(UTC)
        self.snapshot.update({k: data[k] for k in PROGRESS_FIELDS[type_] if k in data})
        step, total = self.snapshot.get("step"), self.snapshot.get("total")
        if isinstance(step, int) and isinstance(total, int) and total > 0:
            finish = self._estimate(now, step, total)
            if finish is not None:
                self.snapshot["estimated_finish"] = finish.isoformat(timespec="seconds")
            if not self._measured and step > 0:
                self._base, self._measured = (now, step), True
        return dict(self.snapshot)

    def _estimate(self, now: datetime, step: int, total: int) -> datetime | None:
        since, from_step = self._base
        steps, seconds = step - from_step, (now - since).total_seconds()
        if step >= total:
            return now
        if steps <= 0 or seconds <= 0:
            return None
        return now + timedelta(seconds=seconds * (total - step) / steps)

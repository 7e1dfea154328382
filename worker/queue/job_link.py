"""The running job's link to Redis on the worker: every write is fenced by the job's lease (shared/job_lease.py), and
a Redis outage costs the run nothing but live delivery.

- Events wait in order in a bounded buffer while Redis is unreachable (connection refused, timed out) and are
  delivered late, behind one `warning` event that marks the gap (how long, how many came late, how many were dropped
  past MAX_PENDING), once Redis answers again.
- Event ids stay above the worker's high-water mark (the last id it saw), so they never repeat within a job even if
  Redis lost its counter.
- Ownership is conservative: an answer of "not yours" (reaped, ended by someone else) or "no such job" (Redis lost
  the record) stops the run and nothing more is written, except the `state_lost` ending; no answer at all is not
  taken as either for up to OUTAGE_LIMIT_S, after which the run is stopped (`redis_unavailable`). Publishing waits
  for an answer, so a model is only ever published by the job's owner.
"""

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from shared import job_lease
from shared.jobs import Guard
from shared.redis_ops import Op, run_sync

log = logging.getLogger(__name__)

MAX_PENDING = 2000  # events held while Redis is down; a 60 s outage of a training run holds a few dozen
RETRY_EVERY_S = 1.0  # while Redis is down, at most one attempt this often (each may wait out a socket timeout)
OUTAGE_LIMIT_S = 300.0  # Redis unreachable this long: stop the run (it can no longer tell whether it owns the job)
REDIS_UNAVAILABLE = "redis_unavailable"
_DOWN = object()


class JobLink:
    def __init__(self, redis: Any, job_id: str, lease: str, record: dict[str, Any]) -> None:
        self.redis, self.job_id, self.lease = redis, job_id, lease
        self.record = record  # the job as claimed: written back if Redis loses it
        self.floor = int(record.get("last_event_id") or 0)  # high-water mark: the last event id seen
        self.pending: deque[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = deque()
        self.dropped = 0
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.lost: str | None = None  # job_lease.FENCED or job_lease.STATE_LOST once known

    def emit(self, type_: str, message: str, data: dict[str, Any], progress: dict[str, Any] | None = None) -> None:
        """Deliver the event now, or keep it (in order) until Redis answers; nothing once the job is lost."""
        if self.lost:
            return
        if len(self.pending) < MAX_PENDING:
            self.pending.append((type_, message, data, progress))
        else:
            self.dropped += 1
        self._flush()

    def check(self) -> str | None:
        """Heartbeat, ownership and stop flag in one call: None while all is well (or Redis is briefly away);
        otherwise why the run must stop: "cancel", "shutdown", FENCED, STATE_LOST or REDIS_UNAVAILABLE."""
        if self.lost:
            return self.lost
        reply = self._call(job_lease.beat(self.job_id, self.lease))
        if reply is _DOWN:
            return REDIS_UNAVAILABLE if self.outage_s() > OUTAGE_LIMIT_S else None
        owned, flag = reply
        self.lost = job_lease.lost_reason(owned)
        if self.lost:
            log.warning("job %s: stopping, the job is no longer this worker's (%s)", self.job_id, self.lost)
            return self.lost
        self._flush()
        return flag

    def begin_publish(self) -> str:
        """job_lease.PUBLISH when this run may publish its model now; otherwise why not. Waits for Redis to answer
        (up to OUTAGE_LIMIT_S), since only an answer proves ownership; everything held back is delivered first."""
        if self.lost:
            return self.lost
        verdict = self._settle(lambda: job_lease.begin_publish(self.job_id, self.lease))
        if verdict in (job_lease.FENCED, job_lease.STATE_LOST):
            self.lost = verdict
        return verdict if verdict is not None else REDIS_UNAVAILABLE

    def end(self, make_op: Callable[[Guard], Op[bool]]) -> bool | None:
        """The terminal change, after everything held back; make_op gets the guard (lease, floor, the record to
        restore). True: done; False: the job was no longer this run's; None: Redis never answered."""
        done = self._settle(lambda: make_op(Guard(lease=self.lease, floor=self.floor, restore=self._restore())))
        return False if done == job_lease.FENCED else done

    def outage_s(self) -> float:
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def _restore(self) -> dict[str, Any] | None:
        if self.lost != job_lease.STATE_LOST:
            return None
        return {**self.record, "state": "running", "lease": self.lease, "last_event_id": self.floor}

    def _settle(self, make_op: Callable[[], Op[Any]]) -> Any:
        """Flush, then run the op; retried while Redis is down, for up to OUTAGE_LIMIT_S. None if it never ran,
        FENCED (without running it) once the job is known to be someone else's."""
        while True:
            if self.lost == job_lease.FENCED:
                return job_lease.FENCED
            if self.lost == job_lease.STATE_LOST or self._flush():
                reply = self._call(make_op())
                if reply is not _DOWN:
                    return reply
            if self.outage_s() > OUTAGE_LIMIT_S:
                log.error("job %s: Redis unreachable for %.0fs; giving up on it", self.job_id, self.outage_s())
                return None
            time.sleep(max(0.05, self.retry_at - time.monotonic()))

    def _flush(self) -> bool:
        """Deliver what is held, in order; True when nothing is left."""
        if self.lost:
            return self.lost == job_lease.STATE_LOST
        if self.down_since is not None and not self._mark_gap():
            return False
        while self.pending:
            type_, message, data, progress = self.pending[0]
            if not self._send(type_, message, data, progress):
                return False
            self.pending.popleft()
        return True

    def _mark_gap(self) -> bool:
        """The first delivery after an outage: one warning saying what the live stream missed."""
        late, dropped, seconds = len(self.pending), self.dropped, self.outage_s()
        text = f"Redis was unreachable for {seconds:.0f}s: the {late} event(s) below were delivered late"
        text += f" and {dropped} progress event(s) were dropped" if dropped else ""
        data = {"reason": REDIS_UNAVAILABLE, "seconds": round(seconds, 1), "late": late, "dropped": dropped}
        if not self._send("warning", text, data, None):
            return False
        log.warning("job %s: %s", self.job_id, text)
        self.down_since, self.dropped = None, 0
        return True

    def _send(self, type_: str, message: str, data: dict[str, Any], progress: dict[str, Any] | None) -> bool:
        reply = self._call(job_lease.emit(self.job_id, self.lease, self.floor, type_, message, data, progress))
        if reply is _DOWN:
            return False
        if reply <= 0:
            self.lost = job_lease.lost_reason(reply)
            log.warning("job %s: delivering nothing more, the job is no longer this worker's (%s)", self.job_id,
                        self.lost)  # fmt: skip
            return False
        self.floor = max(self.floor, reply)
        return True

    def _call(self, op: Op[Any]) -> Any:
        """Run the op, or _DOWN when Redis does not answer (tried at most every RETRY_EVERY_S while it is down)."""
        now = time.monotonic()
        if self.down_since is not None and now < self.retry_at:
            op.close()
            return _DOWN
        try:
            return run_sync(self.redis, op)
        except (RedisError, OSError) as exc:
            if self.down_since is None:
                self.down_since = now
                log.warning("job %s: Redis unreachable (%s); holding events until it answers", self.job_id, exc)
            self.retry_at = time.monotonic() + RETRY_EVERY_S
            return _DOWN

"""The one progress computation and time estimate (shared/progress.py), which the API, web view and CLI display."""

from datetime import UTC, datetime, timedelta

from shared.progress import ProgressTracker

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_pace_is_measured_from_the_first_step_once_there_are_two():
    tracker = ProgressTracker(started=T0)
    first = tracker.update("progress", {"epoch": 0.1, "step": 10, "total": 100, "loss": 2.0}, at(20))  # 10 s loading
    assert first["estimated_finish"] == at(20 + 90 * 2).isoformat(timespec="seconds")  # since the start: 2 s a step
    second = tracker.update("progress", {"epoch": 0.2, "step": 20, "total": 100, "loss": 1.5}, at(30))
    assert second["estimated_finish"] == at(30 + 80 * 1).isoformat(timespec="seconds")  # since step 10: 1 s a step
    scored = tracker.update("eval", {"epoch": 0.2, "step": 20, "total": 100, "f1": 0.4, "accuracy": 0.5}, at(31))
    assert scored["loss"] == 1.5 and scored["f1"] == 0.4 and scored["step"] == 20  # one snapshot of both kinds


def test_no_estimate_without_steps_and_now_at_the_end():
    tracker = ProgressTracker(started=T0)
    assert "estimated_finish" not in tracker.update("progress", {"step": 0, "total": 10}, at(5))
    assert "estimated_finish" not in tracker.update("eval", {"f1": 0.3}, at(6))
    assert tracker.update("progress", {"step": 10, "total": 10}, at(9))["estimated_finish"] == at(9).isoformat(
        timespec="seconds")

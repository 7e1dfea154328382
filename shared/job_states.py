"""A job's states and the one table of the changes allowed between them; the job store enforces it atomically."""

from typing import Literal, get_args

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"running", "cancelled", "failed"}),
    "running": frozenset({"succeeded", "failed", "cancelled"}),
}
# Nothing leaves a terminal state: the states with no row above.
TERMINAL_STATES = frozenset(s for s in get_args(JobState) if s not in TRANSITIONS)

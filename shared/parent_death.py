"""Dying with the parent process: Linux's PR_SET_PDEATHSIG, set in one place for the worker's training child, the
worker's pool process and scripts/up's children, so a `kill -9` of a parent leaves no orphan (on the GPU, or holding
a port). Elsewhere it is a no-op, and the callers' other defences (process groups, heartbeats) still hold."""

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send `signum` to this process when its parent dies; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signum) == 0
    except OSError:
        return False

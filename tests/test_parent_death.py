"""shared/parent_death.py: the one place PR_SET_PDEATHSIG is set (training child, worker pool process, scripts/up)."""

import ctypes
import signal
import sys

import pytest

from shared.parent_death import die_with_parent

PR_GET_PDEATHSIG = 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_signal_is_set_for_this_process():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    before = ctypes.c_int()
    libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(before))
    try:
        assert die_with_parent(signal.SIGTERM)
        now = ctypes.c_int()
        libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(now))
        assert now.value == signal.SIGTERM
    finally:
        libc.prctl(1, before.value)  # leave the test process as it was

"""Keeping freed memory for the next day: glibc's allocator set once per process.

A model day allocates and frees tens to hundreds of megabytes of arrays (today's needs and
their uniforms, the choices, the metrics' tallies). With glibc's default, self-adjusting
thresholds, the free space at the top of the heap is often handed back to the operating
system when those arrays are freed, and faulted back in page by page the next day. Measured
on the benchmark machine (``benchmarks/README.md``): at ~510,000 residents 3,790 minor page
faults a day and 173 ms a day, against 25 faults and 132 ms with the thresholds below; at
~1,000,000 residents 10,300 faults and 296 ms against 280 and 275 ms. Whether it happens
depends on the sizes and order of earlier allocations, so it comes and goes with unrelated
changes (while this was written, a version of the day that kept all its uniforms took ~2,400
faults a day at 100,000 residents).

So, once per process, when the first ``CommerceModel`` is made, lifecircle asks glibc
(``mallopt``) to serve allocations of up to ``MMAP_THRESHOLD_BYTES`` from the heap and to
hand memory back only when more than ``TRIM_THRESHOLD_BYTES`` is free at its top. So up to
that much freed memory stays at the top of a heap for reuse (memory freed lower down, between
live arrays, follows glibc's usual rules, as before). Nothing is done on other C libraries, or
when ``LIFECIRCLE_SYSTEM_MALLOC=1`` is set (the allocator is then left as it is).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's own ceiling for its self-adjusting threshold
TRIM_THRESHOLD_BYTES = 128 * 2**20
OPT_OUT_ENV = "LIFECIRCLE_SYSTEM_MALLOC"
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)

_lock = threading.Lock()
_done: list[bool] = []  # the outcome, once tried in this process


def keep_freed_memory() -> bool:
    """Set glibc's thresholds once per process (see the module docstring).

    Returns:
        Whether the thresholds are set: False on other C libraries or with the opt-out.
    """
    with _lock:
        if not _done:
            _done.append(_set_thresholds())
        return _done[0]


def _set_thresholds() -> bool:
    if os.environ.get(OPT_OUT_ENV, "") not in ("", "0"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # mallopt returns 1 on success
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))

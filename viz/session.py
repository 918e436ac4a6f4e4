"""One browser session on a shared server: is anyone watching, and has it been used lately.

A classroom shares one server, and Solara keeps a session whose tab went away for
``SOLARA_KERNEL_CULL_TIMEOUT`` (24 hours by default; ``viz.server`` sets a shorter one). So
a session must not work for nobody:

* :class:`Watch` tells whether a page of the session is still connected (Solara's kernel
  context and its page status). Play stops the frame a session has no connected page: a
  closed or reloaded tab stops stepping at once.
* :class:`Activity` remembers when the user last did something (Play running on its own is
  not use). A model not used for :data:`IDLE_SECONDS` (``LIFECIRCLE_VIZ_IDLE_MINUTES``,
  default 20 minutes) is stopped and dropped to free the server; the page says so and Reset
  rebuilds it.

A dropped model's memory goes back to the system only if the C heap is trimmed: a model is
many numpy arrays, and glibc keeps freed pages for reuse. :func:`release_memory` collects
garbage and calls glibc's ``malloc_trim``, after a model is dropped and after a session
closes (measured: 10 dropped models free ~25 MB of RSS without it, ~155 MB with it).
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
import time
from dataclasses import dataclass, field

from solara.server.kernel_context import (
    PageStatus,
    VirtualKernelContext,
    get_current_context,
    has_current_context,
)

IDLE_SECONDS = 60.0 * float(os.environ.get("LIFECIRCLE_VIZ_IDLE_MINUTES", "20"))
#: How often a session checks whether it is idle.
CHECK_SECONDS = min(10.0, max(0.5, IDLE_SECONDS / 5))


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc ``malloc_trim``)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


class _Releaser:
    """Runs :func:`release_memory` once, a little after the first of many requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None

    def soon(self, delay: float) -> None:
        with self.lock:
            if self.timer is not None and self.timer.is_alive():
                return  # a release is due anyway: 30 tabs closing cost one collection
            self.timer = threading.Timer(delay, release_memory)
            self.timer.daemon = True
            self.timer.start()


_RELEASER = _Releaser()


def release_memory_soon(delay: float = CHECK_SECONDS) -> None:
    """Release memory ``delay`` seconds from now (once for all requests meanwhile)."""
    _RELEASER.soon(delay)


class Watch:
    """Whether the session's pages are connected (always true outside a Solara server)."""

    def __init__(self, context: VirtualKernelContext | None):
        self.context = context

    @classmethod
    def current(cls) -> Watch:
        """The watch of the session being rendered."""
        return cls(get_current_context() if has_current_context() else None)

    def closed(self) -> bool:
        """The session is over (its tab closed, or culled)."""
        return self.context is not None and self.context.closed_event.is_set()

    def connected(self) -> bool:
        """Some page of the session is connected."""
        if self.context is None:
            return True
        if self.closed():
            return False
        return PageStatus.CONNECTED in self.context.page_status.values()

    def wait_closed(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if the session closed meanwhile."""
        if self.context is None:
            time.sleep(seconds)
            return False
        return self.context.closed_event.wait(seconds)


@dataclass
class Activity:
    """When the user last used the session's model."""

    idle_limit: float = IDLE_SECONDS
    last_used: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        """The user did something."""
        self.last_used = time.monotonic()

    def idle_seconds(self, now: float | None = None) -> float:
        """Seconds since the user last did something."""
        return (time.monotonic() if now is None else now) - self.last_used

    def should_drop(self, has_model: bool, now: float | None = None) -> bool:
        """Drop the model: there is one and nobody used it for too long (playing or not)."""
        return has_model and self.idle_seconds(now) >= self.idle_limit

    def dropped_notice(self) -> str:
        """What the page says after dropping the model."""
        minutes = self.idle_limit / 60
        return (f"This model was put away after {minutes:g} minutes without use, to free the "
                "server's memory for others. Press Reset to build it again (same settings).")

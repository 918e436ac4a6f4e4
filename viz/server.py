"""Serve the visualization: ``serve()`` runs Solara on ``viz/app.py`` and blocks.

:func:`background` starts the same server on a free loopback port for a with-block (browser
tests, the classroom benchmark, ``make screenshot``) and stops it after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
ROOT = APP.parent.parent
#: Solara keeps a session whose page disconnected (no close beacon) this long: a student
#: whose network drops can come back to their model; after that the session is closed.
CULL_TIMEOUT = "10m"


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for an offline Solara server (no telemetry, assets from the local cache)."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_ASSETS_PROXY", "True")  # serve JS/CSS from solara's local cache
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # it covered the legend; the page credits Solara
    env.setdefault("MPLBACKEND", "Agg")
    # solara warns on every page load that a non-"localhost" host gets samesite=lax cookies
    env.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite=none:UserWarning")
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", CULL_TIMEOUT)
    # one heap arena per thread (Solara runs each session's tasks in threads) would keep the
    # memory of dropped models; two arenas keep RSS close to what is in use
    env.setdefault("MALLOC_ARENA_MAX", "2")
    root = str(APP.parent.parent)  # so `import model` / `import viz` work from any cwd
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), root) if p)
    return env


def command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command line for the app."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port",
            str(port), "--production", "--no-open", "--log-level", "warning"]


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False,
          idle_minutes: float | None = None) -> int:
    """Start Solara serving the app at http://host:port/, print the address and block.

    Args:
        host: the address to listen on.
        port: the port.
        open_browser: open the page in the default browser.
        idle_minutes: drop a session's model after this long without use (default 20).
    """
    from viz import assets

    gone = assets.missing()
    if gone:
        print("fetching browser assets once: " + ", ".join(gone), flush=True)
        assets.fill()
    url = f"http://{host}:{port}/"
    env = server_env()
    if idle_minutes is not None:
        env["LIFECIRCLE_VIZ_IDLE_MINUTES"] = str(idle_minutes)
    proc = subprocess.Popen(command(host, port), env=env, cwd=str(ROOT))
    print(f"lifecircle viz: serving on {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)

    def _stop(signum, frame):  # SIGTERM: stop the server too, as Ctrl-C does
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A server started by :func:`background`."""

    url: str
    pid: int
    log: Path

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system, /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """The server's resident memory in MB (/proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextlib.contextmanager
def background(log: Path, env: dict[str, str] | None = None,
               timeout: float = 60.0) -> Iterator[Server]:
    """Run the server on a free loopback port for a with-block; stop it afterwards.

    Args:
        log: file for the server's output.
        env: extra environment (e.g. ``LIFECIRCLE_VIZ_IDLE_MINUTES``).
        timeout: seconds to wait for the first answer.

    Raises:
        RuntimeError: the server did not answer in time (its log's tail in the message).
    """
    from viz import assets

    assets.fill(quiet=True)  # a no-op once `python -m viz.assets` has run
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(command("127.0.0.1", port), env={**server_env(), **(env or {})},
                                cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"solara server did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.3)
        yield Server(url=url, pid=proc.pid, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(serve())

"""Serve the visualization: ``serve()`` runs Solara on ``viz/app.py`` and blocks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import webbrowser
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for an offline Solara server (no telemetry, assets from the local cache)."""
    env = dict(os.environ if base is None else base)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_ASSETS_PROXY", "True")  # serve JS/CSS from solara's local cache
    env.setdefault("MPLBACKEND", "Agg")
    # solara warns on every page load that a non-"localhost" host gets samesite=lax cookies
    env.setdefault("PYTHONWARNINGS", "ignore:Cookies with samesite=none:UserWarning")
    root = str(APP.parent.parent)  # so `import model` / `import viz` work from any cwd
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), root) if p)
    return env


def command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command line for the app."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port",
            str(port), "--production", "--no-open", "--log-level", "warning"]


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> int:
    """Start Solara serving the app at http://host:port/, print the address and block."""
    from viz import assets

    gone = assets.missing()
    if gone:
        print("fetching browser assets once: " + ", ".join(gone), flush=True)
        assets.fill()
    url = f"http://{host}:{port}/"
    proc = subprocess.Popen(command(host, port), env=server_env(), cwd=str(APP.parent.parent))
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


if __name__ == "__main__":
    sys.exit(serve())

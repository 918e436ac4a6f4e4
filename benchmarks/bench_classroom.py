"""A classroom on one server: its CPU and memory with 1, 10 and 30 browser sessions.

For each class size a fresh server starts (``viz.server.background``); that many pages open
in one headless chromium (each page is its own session with its own model, default city and
scenario), then all press Play at the page's default speed (300 ms between frames, one day per
frame) for ``--seconds``. Measured from /proc: the server's resident memory before any session,
with every model built and after the tabs closed; its CPU (cores busy) while everyone plays;
and the days each session advanced per second of wall time (a student sees ~3 a second on an
idle machine); then every tab closes, and the benchmark waits for the server to idle (a 2 s
window under 2% of a core: stepping has stopped, closed sessions are torn down and their memory
released) and reads its CPU over 5 s more and its memory. The browser runs on the same
machine and competes for it; the load average is printed with the figures. A benchmark, not
a test: run it with ``make classroom``.

    python benchmarks/bench_classroom.py [--sizes 1 10 30] [--seconds 30] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viz.server import background  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def day_of(page) -> int:
    """The day a page's run bar shows."""
    return int(re.search(r"Day (\d+)", page.locator(".lc-day").inner_text()).group(1))


def cpu_rate(server, seconds: float) -> float:
    """The server's CPU (cores busy) over the next ``seconds``."""
    before, t0 = server.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return (server.cpu_seconds() - before) / (time.monotonic() - t0)


def measure(size: int, seconds: float, browser) -> dict[str, float]:
    """Open ``size`` sessions on a fresh server, play them all, and measure the server."""
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory() as tmp, background(Path(tmp) / "server.log") as server:
        time.sleep(2.0)
        rss0 = server.rss_mb()
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pages = []
        t0 = time.monotonic()
        for _ in range(size):
            page = context.new_page()
            page.goto(server.url)
            pages.append(page)
        for page in pages:
            expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(
                timeout=600_000)
        built_s = time.monotonic() - t0
        time.sleep(2.0)
        rss_built = server.rss_mb()
        for page in pages:
            page.get_by_role("button", name="Play", exact=True).click()
        time.sleep(3.0)  # every session is playing
        days0 = [day_of(p) for p in pages]
        cpu0, w0 = server.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        cpu1, w1 = server.cpu_seconds(), time.monotonic()
        days1 = [day_of(p) for p in pages]
        rss_playing = server.rss_mb()
        for page in pages:  # every tab closes, as a browser closes it (pagehide, beacon)
            page.close(run_before_unload=True)
        context.close()
        closed = time.monotonic()
        settled = float("nan")
        while time.monotonic() - closed < 60:  # until the server idles: 2 s under 2% of a core
            if cpu_rate(server, 2.0) < 0.02:
                settled = time.monotonic() - closed
                break
        idle_cores = cpu_rate(server, 5.0)
        rss_closed = server.rss_mb()
        rates = [(b - a) / (w1 - w0) for a, b in zip(days0, days1, strict=True)]
        return {
            "sessions": size,
            "build_s": round(built_s, 1),
            "rss_empty_mb": round(rss0),
            "rss_built_mb": round(rss_built),
            "rss_playing_mb": round(rss_playing),
            "mb_per_session": round((rss_playing - rss0) / size, 1),
            "cpu_cores_playing": round((cpu1 - cpu0) / (w1 - w0), 2),
            "days_per_s_per_session": round(sum(rates) / len(rates), 2),
            "slowest_session_days_per_s": round(min(rates), 2),
            "s_until_idle_after_close": round(settled, 1),
            "cpu_cores_after_close": round(idle_cores, 3),
            "rss_after_close_mb": round(rss_closed),
            "load_average": round(os.getloadavg()[0], 2),
        }


def main() -> int:
    """Run the classroom benchmark and print a Markdown table."""
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_classroom.json")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}", flush=True)
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for size in args.sizes:
            rows.append(measure(size, args.seconds, browser))
            print(json.dumps(rows[-1]), flush=True)
        browser.close()
    cols = list(rows[0])
    print("\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

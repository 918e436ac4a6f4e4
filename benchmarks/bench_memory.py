"""Peak memory and run time of a 1,000,000-resident district over 30 days.

Run in a fresh process (peak RSS is per process):
``.venv/bin/python benchmarks/bench_memory.py [--residents 1000000] [--days 30]
[--scenario baseline]``.

Reports set-up time, the peak resident set size after set-up and after the run
(``resource.getrusage(...).ru_maxrss``), day times (median, max, total), and the time of one
more candidate-index rebuild after the run. Prints a
Markdown table. Takes a few minutes.
"""

from __future__ import annotations

import argparse
import math
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model import CommerceModel  # noqa: E402

PRESENT_PER_BLOCK = 1250  # residents present per community block at day 0 (baseline params)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    """Current resident set size in MB (from /proc; NaN where unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def main(argv: list[str] | None = None) -> None:
    """Build the district, run it, print the Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="baseline",
                    help="scenario name (smart_platform: residents know part of the shops)")
    args = ap.parse_args(argv)
    n = max(1, round(math.sqrt(args.residents / PRESENT_PER_BLOCK)))
    base_mb = peak_rss_mb()
    t = time.perf_counter()
    m = CommerceModel(scenario=args.scenario, rng=args.seed, communities_x=n, communities_y=n)
    setup_s = time.perf_counter() - t
    setup_peak = peak_rss_mb()
    setup_rss = current_rss_mb()
    days: list[float] = []
    for d in range(args.days):
        t = time.perf_counter()
        m.step()
        days.append(time.perf_counter() - t)
        print(f"day {d + 1}: {days[-1]:.2f} s, rss {current_rss_mb():.0f} MB", file=sys.stderr,
              flush=True)
    peak_before = peak_rss_mb()
    t = time.perf_counter()
    m.candidates = m._build_index()
    rebuild_s = time.perf_counter() - t
    rebuild_peak = peak_rss_mb()
    rows = [
        ("scenario", f"{args.scenario} (consideration sets "
                     f"{'on' if m.params.consideration_sets else 'off'})"),
        ("residents present (day 0 / last day)", f"{int(m.population.present.sum()):,} of "
                                                 f"{m.population.n:,} places ({n}x{n} blocks)"),
        ("home cells / candidate pairs", f"{len(m.city.home_xy):,} / {len(m.candidates.offer):,}"),
        ("needs on the last day", f"{len(m.today.need_res):,}"),
        ("peak RSS before the model (interpreter + imports)", f"{base_mb:.0f} MB"),
        ("set-up time", f"{setup_s:.1f} s"),
        ("RSS after set-up (peak during set-up)", f"{setup_rss:.0f} MB ({setup_peak:.0f} MB)"),
        (f"day time: median / max / total of {args.days}",
         f"{np.median(days):.2f} s / {max(days):.2f} s / {sum(days):.1f} s"),
        ("RSS after the run", f"{current_rss_mb():.0f} MB"),
        ("peak RSS (ru_maxrss) after the run", f"{peak_before:.0f} MB"),
        ("candidate index rebuild after the run: time (peak RSS after it)",
         f"{rebuild_s:.2f} s ({rebuild_peak:.0f} MB)"),
    ]
    print(f"\n## bench_memory ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"Python {platform.python_version()})\n")
    print("| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()

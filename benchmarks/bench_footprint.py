"""The footprint estimate (model/footprint.py) against measured peak memory and day time.

``.venv/bin/python benchmarks/bench_footprint.py [--sizes 2,4,8,12,16] [--days 10]``

Each size (communities per side) runs in a fresh process: build the model, run the days,
report peak RSS (``ru_maxrss``), set-up time and the median day; beside them the estimate
from the parameters alone and the ratio estimate / measured (> 1: the estimate is on the safe
side). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import json, resource, statistics, sys, time
from model import CommerceModel
from model.footprint import estimate
n, days = int(sys.argv[1]), int(sys.argv[2])
t0 = time.perf_counter()
m = CommerceModel(rng=1, communities_x=n, communities_y=n)
setup = time.perf_counter() - t0
times = []
for _ in range(days):
    t = time.perf_counter(); m.step(); times.append(time.perf_counter() - t)
fp = estimate(m.params)
print(json.dumps({"n": n, "places": int(m.city.home_capacity.sum()),
                  "present": int(len(m.present_idx)), "rss": resource.getrusage(
                      resource.RUSAGE_SELF).ru_maxrss * 1024, "setup": setup,
                  "day": statistics.median(times), "est_rss": fp.memory_bytes,
                  "est_setup": fp.setup_seconds, "est_day": fp.seconds_per_day}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2,4,8,12,16")
    ap.add_argument("--days", type=int, default=10)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"load: {os.getloadavg()[0]:.2f}\n")
    print("| blocks | places | present | peak RSS MB (est) | ratio | set-up s (est) | day ms "
          "(est) |\n|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(args.days)], env=env,
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"| {n}x{n} | {r['places']:,} | {r['present']:,} | {r['rss'] / 1e6:,.0f} "
              f"({r['est_rss'] / 1e6:,.0f}) | {r['est_rss'] / r['rss']:.2f} | "
              f"{r['setup']:.1f} ({r['est_setup']:.1f}) | {1e3 * r['day']:.0f} "
              f"({1e3 * r['est_day']:.0f}) |")


if __name__ == "__main__":
    main()

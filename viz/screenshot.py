"""The README's picture of the page: ``make screenshot`` (``python -m viz.screenshot``).

Starts the server on a free loopback port, opens the page in Debian chromium, shows the
mobile-vendor scenario after a few days and writes ``docs/viz-screenshot.png`` (or the path
given). Tests call :func:`take` on their own page and write under a temporary folder, so a
test run never changes the tracked picture.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .server import ROOT, background

TARGET = ROOT / "docs" / "viz-screenshot.png"
CHROMIUM = "/usr/bin/chromium"
SIZE = {"width": 1600, "height": 1000}


def take(page, path: Path) -> Path:
    """Save a screenshot of ``page`` (at the README's size) to ``path``."""
    before = page.viewport_size
    page.set_viewport_size(SIZE)
    page.wait_for_timeout(700)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    if before:
        page.set_viewport_size(before)
    return path


def main(argv: list[str] | None = None) -> int:
    """Write the screenshot to ``argv[0]`` (default ``docs/viz-screenshot.png``)."""
    from playwright.sync_api import expect, sync_playwright

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else TARGET
    with tempfile.TemporaryDirectory() as tmp, background(Path(tmp) / "server.log") as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=SIZE)
        page.goto(server.url)
        expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=90_000)
        page.locator(".lc-scenario").click()
        page.locator(".menuable__content__active .v-list-item",
                     has_text="mobile_vendors").first.click()
        page.get_by_role("button", name="Reset", exact=True).click()
        expect(page.locator(".lc-summary")).to_contain_text("Scenario mobile_vendors",
                                                            timeout=90_000)
        for day in range(1, 5):
            page.get_by_role("button", name="Step", exact=True).click()
            expect(page.locator(".lc-day")).to_have_text(f"Day {day}", timeout=20_000)
        take(page, target)
        browser.close()
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

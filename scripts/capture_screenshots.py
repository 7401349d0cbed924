"""Regenerate the README screenshot and the landing-page thumbnails from a running server.

Usage: ``noisescope serve --port 5006 &`` then ``python scripts/capture_screenshots.py``.
Each tab's thumbnail is its hero plot a few steps into the run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from app.browser import launch_chromium, wait_for_bokeh
from app.main import TABS

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5006/")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        for tab in TABS:
            page.goto(f"{args.url}?tab={tab.slug}")
            wait_for_bokeh(page)
            for _ in range(3):  # mid-run, while the clusters form
                page.locator("button:has-text('Step')").first.click()
                page.wait_for_timeout(400)
            page.mouse.move(5, 5)  # no tooltip in the picture
            page.wait_for_timeout(300)
            page.screenshot(path=str(ASSETS / "screenshot.png"))
            hero = page.locator(".bk-Canvas >> visible=true").first
            thumb = ASSETS / "thumbnails" / f"{tab.slug}.png"
            hero.screenshot(path=str(thumb))
            print("wrote", thumb)
        browser.close()


if __name__ == "__main__":
    main()

"""`make pages`: full-page PNG screenshots of HTML pages in headless Chromium, to look at a
page after changing it (by default a demo folder's review and monitor pages).

    python benchmarks/pages.py                      # out/demo/report.html and monitor.html
    python benchmarks/pages.py --demo DIR --out DIR  # another demo folder, another place
    python benchmarks/pages.py page.html other.html  # any pages

Chromium takes a screenshot of its window only, so each page is measured first: a copy of
it with a script that writes the page's height into the DOM is loaded and its DOM dumped
(``--dump-dom``), then the page itself is shot in a window 1280 pixels wide and that tall.
Only the standard library and a Chromium binary are needed (``CHROMIUM``, else
``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("report.html", "monitor.html")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INSTALL = "chromium not found: install it with `sudo apt-get install -y chromium` (or set CHROMIUM)"
WIDTH = 1280
#: Taller pages are cut at this height: a window this tall already holds 80 MB of pixels.
MAX_HEIGHT = 16000
#: Seconds one Chromium run may take.
TIMEOUT = 120

# Written into the DOM once the page and its images have loaded (data: images included).
_PROBE = (
    "<script>addEventListener('load', () => {document.body.dataset.pageHeight = "
    "Math.ceil(document.documentElement.getBoundingClientRect().height)})</script>"
)
_HEIGHT = re.compile(r'data-page-height="(\d+)"')


def find_browser() -> str | None:
    """The Chromium binary: ``CHROMIUM`` if set, else the first of ``BROWSERS`` on the PATH."""
    given = os.environ.get("CHROMIUM")
    if given:
        return given if shutil.which(given) else None
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def probe_copy(html: str, folder: Path) -> str:
    """The page with a ``<base>`` at its own folder (relative links still resolve from a copy)
    and the height probe before ``</body>``."""
    base = f'<base href="{folder.resolve().as_uri()}/">'
    head = re.search(r"<head[^>]*>", html, flags=re.I)
    html = html[: head.end()] + base + html[head.end() :] if head else base + html
    end = html.lower().rfind("</body>")
    return html[:end] + _PROBE + html[end:] if end >= 0 else html + _PROBE


def chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run with its own profile folder (runs do not share a lock)."""
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def page_height(browser: str, page: Path, work: Path) -> int:
    """The page's full height in pixels at ``WIDTH``, from its DOM dumped after loading."""
    copy = work / f"probe-{page.name}"
    copy.write_text(probe_copy(page.read_text(encoding="utf-8"), page.parent), encoding="utf-8")
    run = chromium(
        browser,
        work / "profile",
        f"--window-size={WIDTH},800",
        "--virtual-time-budget=5000",
        "--dump-dom",
        copy.as_uri(),
    )
    found = _HEIGHT.search(run.stdout)
    if not found:
        tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{page}: its height could not be measured ({tail})")
    return int(found.group(1))


def screenshot(browser: str, page: Path, png: Path, work: Path) -> tuple[int, bool]:
    """``page`` as a PNG at ``png``, whole; returns its height and whether it was cut."""
    height = page_height(browser, page, work)
    shot = min(height, MAX_HEIGHT)
    png.parent.mkdir(parents=True, exist_ok=True)
    run = chromium(
        browser,
        work / "profile",
        f"--window-size={WIDTH},{shot}",
        f"--screenshot={png.resolve()}",
        page.resolve().as_uri(),
    )
    if run.returncode != 0 or not png.is_file():
        tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{page}: no screenshot ({tail})")
    return height, height > shot


def targets(pages: list[Path], out: Path) -> list[tuple[Path, Path]]:
    """Each page with its PNG in ``out``: its name with ``.png`` (a repeated name numbered)."""
    seen: dict[str, int] = {}
    pairs = []
    for page in pages:
        n = seen[page.stem] = seen.get(page.stem, 0) + 1
        pairs.append((page, out / (page.stem + (f"-{n}" if n > 1 else "") + ".png")))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", type=Path, help="HTML files (default: --demo's)")
    parser.add_argument("--demo", type=Path, default=ROOT / "out" / "demo", help="demo folder")
    parser.add_argument("--out", type=Path, help="where the PNGs go (default: DEMO/pages)")
    args = parser.parse_args(argv)
    pages = args.pages or [args.demo / name for name in PAGES]
    missing = [p for p in pages if not p.is_file()]
    if missing:
        hint = "; `make demo` writes them" if not args.pages else ""
        print(f"pages: no {', '.join(map(str, missing))}{hint}", file=sys.stderr)
        return 2
    browser = find_browser()
    if browser is None:
        print(INSTALL, file=sys.stderr)
        return 1
    out = args.out or args.demo / "pages"
    with tempfile.TemporaryDirectory(prefix="leadscore-pages-") as tmp:
        for page, png in targets(pages, out):
            try:
                height, cut = screenshot(browser, page, png, Path(tmp))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as err:
                print(f"pages: {err}", file=sys.stderr)
                return 1
            note = f" (cut at {MAX_HEIGHT:,} of {height:,} px)" if cut else ""
            print(f"{page} -> {png} ({WIDTH} x {min(height, MAX_HEIGHT):,} px){note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

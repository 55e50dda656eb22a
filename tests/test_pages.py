"""``benchmarks/pages.py`` (``make pages``): the page copy it measures, the PNG names, one
line when Chromium is missing, and (where Chromium is installed) a whole page in one PNG."""

from __future__ import annotations

import importlib.util
import os
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("pages", ROOT / "benchmarks" / "pages.py")
pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pages)

TALL = "<!DOCTYPE html><html><head><title>t</title></head><body style='margin:0'>{}</body></html>"


def test_the_measured_copy_resolves_links_from_the_page_folder_and_reports_its_height(tmp_path):
    copy = pages.probe_copy(TALL.format("<p>hi</p>"), tmp_path)
    assert f'<head><base href="{tmp_path.resolve().as_uri()}/">' in copy
    assert copy.index("<p>hi</p>") < copy.index("pageHeight") < copy.index("</body>")
    # A fragment without head or body still gets both.
    bare = pages.probe_copy("<p>hi</p>", tmp_path)
    assert bare.startswith("<base ") and bare.endswith("</script>")


def test_each_page_gets_its_own_png():
    pairs = pages.targets(
        [Path("a/report.html"), Path("b/report.html"), Path("monitor.html")], Path("out")
    )
    assert [png.as_posix() for _, png in pairs] == [
        "out/report.png",
        "out/report-2.png",
        "out/monitor.png",
    ]


def test_without_chromium_it_says_how_to_install_it_in_one_line(tmp_path, monkeypatch, capsys):
    page = tmp_path / "page.html"
    page.write_text(TALL.format("x"))
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    assert pages.main([str(page), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install -y chromium" in err
    assert not list(tmp_path.glob("*.png"))


def test_a_page_taller_than_the_window_is_shot_whole(tmp_path, monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    if pages.find_browser() is None:
        # CI installs Chromium (.ci/run), so there this test runs or fails, never skips.
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (CI installs it: apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    page = tmp_path / "tall.html"
    page.write_text(TALL.format("<div style='height:3000px;background:#eee'>top</div>"))
    assert pages.main([str(page), "--out", str(tmp_path / "shots")]) == 0
    png = (tmp_path / "shots" / "tall.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (pages.WIDTH, 3000)

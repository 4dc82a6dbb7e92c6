"""The browser harness finds what it promises to find (tests/browser_harness.py): on a page
with every defect, each check speaks and a screenshot is kept; a clean page passes; a
navigation that bypassed the tab fails the journey; and missing tools skip outside CI but fail
in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_harness import (
    DESKTOP,
    PHONE,
    ROOT,
    Chromium,
    LoopbackPage,
    launch,
    require_browser,
)

pytestmark = pytest.mark.browser

FLAWED = b"""<!doctype html><html><head><title></title></head><body>
<input name="nameless"><img src="data:,"><div style="width: 900px">too wide</div>
<script>console.error("something broke")</script></body></html>"""
CLEAN = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Fine</title>
</head><body><main><h1>Fine</h1><form><label>Name <input name="name"></label>
<button>Go</button></form><p><a href="#x">elsewhere</a></p></main></body></html>"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    require_browser()
    browser = launch()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def pages() -> Iterator[dict[str, LoopbackPage]]:
    served = {"flawed": LoopbackPage(FLAWED), "clean": LoopbackPage(CLEAN)}
    yield served
    for page in served.values():
        page.close()


def test_every_check_speaks_on_a_flawed_page(chromium: Chromium,
                                             pages: dict[str, LoopbackPage]) -> None:
    tab = chromium.tab(PHONE, "harness")
    tab.goto(pages["flawed"].base + "flawed")
    [defect] = tab.defects
    for expected in ("console: something broke", "field without a label: <input",
                     "axe: critical image-alt", "axe: serious document-title",
                     "axe: serious html-has-lang", "scrolls sideways at 390 px"):
        assert expected in defect, expected
    shot = ROOT / defect.split("screenshot ", 1)[1].split(":", 1)[0]
    assert shot.is_file() and shot.read_bytes().startswith(b"\x89PNG")
    shot.unlink()
    with pytest.raises(AssertionError, match="pages with defects"):
        tab.finish()


def test_a_clean_page_passes_and_a_bypassing_navigation_fails(
        chromium: Chromium, pages: dict[str, LoopbackPage]) -> None:
    tab = chromium.tab(DESKTOP, "harness")
    tab.goto(pages["clean"].base + "clean")
    assert tab.defects == []
    tab.finish()
    tab.page.goto(pages["clean"].base + "again")  # not through the tab: never checked
    with pytest.raises(AssertionError, match="1 navigation"):
        tab.finish()


def test_a_status_other_than_expected_fails_at_once(chromium: Chromium,
                                                    pages: dict[str, LoopbackPage]) -> None:
    tab = chromium.tab(DESKTOP, "harness")
    with pytest.raises(AssertionError, match="answered 200, not 403"):
        tab.goto(pages["clean"].base + "clean", status=403)


def test_missing_tools_skip_outside_ci_and_fail_in_it(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("COMMONPOD_AXE", str(tmp_path / "no-axe.js"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="axe-core at"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"bash \.ci/run installs them"):
        require_browser()

"""Real Chromium for the browser tests (issue #14): Debian's ``chromium`` driven by Playwright,
with axe-core injected into every page.

A :class:`Tab` is one Playwright page at one :class:`Width`. Every navigation goes through it
(:meth:`Tab.goto`, :meth:`Tab.click`, :meth:`Tab.nav`, :meth:`Tab.follow`) and is checked when
it lands: the expected status (at once), then no console error, no form field without a label,
no axe-core violation of serious or critical impact and, at a phone's width, no horizontal
scroll. A page that fails those is photographed into ``browser-failures/`` and noted, and the
journey goes on, so that one run lists every page's defects; :meth:`Tab.finish` fails with the
list, and with any navigation that bypassed the tab. A step (:meth:`Tab.step`) that fails keeps
a screenshot there too. With ``COMMONPOD_SCREENSHOTS=DIR`` the desktop journey writes the
owner's guide's pictures (:meth:`Tab.shot`) into ``DIR``.

Outside CI, tests skip saying what is missing (chromium, Playwright, axe-core); with
``CI=true`` they fail instead: ``.ci/run`` installs all three.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAILURES = ROOT / "browser-failures"
#: where ``.ci/run`` installs axe-core (``npm install --prefix .ci/cache axe-core@4``)
AXE = ROOT / ".ci" / "cache" / "node_modules" / "axe-core" / "axe.min.js"
#: the launch arguments ../shared/README.md gives for Debian's chromium
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BLOCKING = ("serious", "critical")
T = TypeVar("T")


@dataclass(frozen=True)
class Width:
    """A window size the journey runs at."""

    name: str
    width: int
    height: int

    @property
    def phone(self) -> bool:
        return self.width < 600


DESKTOP = Width("desktop", 1280, 800)
PHONE = Width("phone", 390, 844)


def axe_path() -> Path:
    """axe-core's ``axe.min.js``: ``COMMONPOD_AXE`` if set, else where ``.ci/run`` puts it."""
    return Path(os.environ.get("COMMONPOD_AXE", AXE))


def missing() -> list[str]:
    """What the browser tests need and this machine lacks, in words."""
    lacking = []
    if shutil.which("chromium") is None:
        lacking.append("Debian's chromium (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        lacking.append("Playwright for Python (pip install -e '.[test]')")
    if not axe_path().is_file():
        lacking.append(f"axe-core at {axe_path()} (npm install --prefix .ci/cache axe-core@4)")
    return lacking


def require_browser() -> None:
    """Skip the test when the browser tests cannot run here; in CI (``CI=true``), fail."""
    lacking = missing()
    if not lacking:
        return
    reason = "browser tests need " + "; ".join(lacking) + " — bash .ci/run installs them"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def in_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine (the SDK's) to its end on a thread of its own: Playwright's sync API
    keeps an event loop running on the test's thread, where ``asyncio.run`` is refused."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "page"


# --- what is checked on every page ---------------------------------------------------------

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)
                && !el.closest('[hidden]'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.title)
  .map(el => el.outerHTML.slice(0, 160))"""

AXE_RUN = """async (blocking) => (await axe.run(document, {resultTypes: ['violations']}))
  .violations.filter(v => blocking.includes(v.impact))
  .map(v => `${v.impact} ${v.id}: ${v.help} — ` +
            v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"""

OVERFLOW = """() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  widest: [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(-3).map(el => el.outerHTML.slice(0, 120))})"""


@dataclass
class Tab:
    """One page of one browser context, at one width, whose every navigation is checked."""

    page: Any  # playwright.sync_api.Page
    width: Width
    label: str
    shots: Path | None = None
    taken: set[str] = field(default_factory=set)  # pictures taken (by any tab of the browser)
    console: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    navigations: int = 0
    checked: int = 0
    steps: int = 0

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))
        self.page.on("framenavigated", self._navigated)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console.append(f"{message.text} ({message.location.get('url', '?')})")

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame:
            self.navigations += 1

    # --- navigating ---------------------------------------------------------------------

    def goto(self, url: str, *, status: int = 200) -> Any:
        """Open ``url`` and check the page it lands on."""
        response = self.page.goto(url, wait_until="load")
        return self.check(response, status)

    def click(self, target: Any, *, status: int = 200) -> Any:
        """Click ``target`` (a locator or selector: a link, or a button that submits a form),
        and check where the browser lands."""
        return self.follow(lambda: self._locate(target).click(), status=status)

    def nav(self, label: str) -> Any:
        """Follow the link ``label`` of the pages' navigation, which then marks it current."""
        link = self.page.get_by_role("navigation", name="Your pod").get_by_role(
            "link", name=label, exact=True)
        response = self.click(link)
        assert link.get_attribute("aria-current") == "page", f"{label} is not marked current"
        return response

    def follow(self, action: Callable[[], object], *, status: int = 200) -> Any:
        """Do ``action``, which navigates, and check the page it lands on."""
        with self.page.expect_navigation(wait_until="load") as landed:
            action()
        return self.check(landed.value, status)

    def download(self, button: Any) -> bytes:
        """Click ``button``, which downloads a file, and return the file's bytes."""
        with self.page.expect_download() as got:
            self._locate(button).click()
        path = got.value.path()
        assert got.value.failure() is None, got.value.failure()
        return Path(path).read_bytes()

    def _locate(self, target: Any) -> Any:
        return self.page.locator(target) if isinstance(target, str) else target

    # --- checking ----------------------------------------------------------------------

    def check(self, response: Any, status: int = 200) -> Any:
        """Check the page now shown, reached by ``response``, answered with ``status``."""
        assert response is not None, "the navigation got no response"
        url = response.url
        assert response.status == status, f"{url} answered {response.status}, not {status}"
        self.page.wait_for_load_state("load")
        assert self.navigations - self.checked >= 1, f"{url}: no navigation to check"
        self.checked = self.navigations
        problems = [f"console: {m}" for m in self._errors(url, status)]
        problems += [f"field without a label: {f}" for f in self.page.evaluate(UNLABELLED)]
        problems += [f"axe: {v}" for v in self.page.evaluate(AXE_RUN, list(BLOCKING))]
        if self.width.phone:
            box = self.page.evaluate(OVERFLOW)
            if box["scroll"] > box["inner"]:
                problems.append(f"scrolls sideways at {box['inner']} px: {box['scroll']} px "
                                f"wide; too wide: {box['widest']}")
        self.console.clear()
        if problems:
            picture = self._keep(f"defects {url.split('?')[0]}")
            self.defects.append(f"{url} at {self.width.name} ({self.width.width} px), "
                                f"{picture}:\n  " + "\n  ".join(problems))
        return response

    def _errors(self, url: str, status: int) -> list[str]:
        """Console errors, less the browser's own note of the status the test expected."""
        expected = f"status of {status}" if status >= 400 else None
        return [m for m in self.console
                if not (expected and expected in m and m.startswith("Failed to load resource")
                        and url.split("#")[0] in m)]

    def finish(self) -> None:
        """Fail if a page had defects, or a navigation went unchecked."""
        assert not self.defects, "pages with defects:\n" + "\n".join(self.defects)
        assert self.navigations == self.checked, (
            f"{self.navigations - self.checked} navigation(s) were not checked")

    # --- pictures ----------------------------------------------------------------------

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """One step of a journey: on failure a full-page screenshot is kept in
        ``browser-failures/`` before the error goes on."""
        self.steps += 1
        try:
            yield
        except BaseException:
            print(f"step {name!r} failed; {self._keep(name)}")
            for defect in self.defects:
                print(f"defect seen before: {defect}")
            raise

    def _keep(self, what: str) -> str:
        """A full-page screenshot in ``browser-failures/``; says where it went."""
        FAILURES.mkdir(exist_ok=True)
        path = FAILURES / f"{self.label}-{self.steps:02d}-{_slug(what)}.png"
        try:
            self.page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # the page may be gone; what failed matters more
            return f"no screenshot ({exc})"
        return f"screenshot {path.relative_to(ROOT)}"

    def shot(self, name: str) -> None:
        """A picture of the page for docs/owners.md, when screenshots were asked for (the
        first of each name in a run)."""
        if self.shots is not None and name not in self.taken:
            self.taken.add(name)
            self.shots.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.shots / f"{name}.png"))


@dataclass
class Chromium:
    """One headless Chromium for a module; :meth:`tab` opens a fresh context (its own
    cookies) at a width."""

    browser: Any
    playwright: Any
    axe_source: str
    shots: Path | None
    contexts: list[Any] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)

    def tab(self, width: Width, label: str) -> Tab:
        """A new page in a new context: nobody signed in, nothing cached."""
        context = self.browser.new_context(viewport={"width": width.width,
                                                     "height": width.height},
                                           accept_downloads=True)
        context.set_default_timeout(15_000)  # a page answers in well under a second here
        # axe-core in every document before the page's own scripts (not subject to the page's
        # CSP, and not sent again for each check)
        context.add_init_script(script=self.axe_source)
        self.contexts.append(context)
        shots = self.shots if width == DESKTOP else None
        return Tab(context.new_page(), width, f"{width.name}-{label}", shots, self.taken)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.browser.close()
        self.playwright.stop()


def launch() -> Chromium:
    """Debian's chromium, headless, with the arguments this machine needs."""
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        browser = driver.chromium.launch(executable_path=shutil.which("chromium"),
                                         headless=True, args=CHROMIUM_ARGS)
    except BaseException:
        driver.stop()
        raise
    shots = os.environ.get("COMMONPOD_SCREENSHOTS")
    return Chromium(browser, driver, axe_path().read_text(),
                    ROOT / shots if shots else None)


# --- pages served from loopback: a demo app's redirect URI, the harness's own test pages -----

CALLBACK_PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app</title></head><body><main><h1>Demo app</h1>
<p>Signed in. The app takes it from here.</p></main></body></html>"""


class LoopbackPage:
    """A loopback HTTP server that answers ``page`` to every GET (``/favicon.ico``: 204) and
    keeps the URLs it was asked for — a demo app's redirect URI, say."""

    def __init__(self, page: bytes = CALLBACK_PAGE) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        listener = self
        self.seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/favicon.ico":
                    self.send_response(204)
                    self.end_headers()
                    return
                listener.seen.append(listener.base + self.path.lstrip("/"))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def redirect_uri(self) -> str:
        return self.base + "callback"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

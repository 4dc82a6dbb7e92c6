"""The owner's journey in a real browser (issue #14), at a desktop's width and a phone's: sign
up → every page of the navigation → edit the profile → upload two files → add a contribution
(refused by the shape first, then fixed) → share a file with a second account, who sees it in
"shared with you" and opens it → authorize a demo app with partial consent → see its accesses
in the log → withdraw consent → export the pod → import it on a second server and compare →
delete the account. Forms refuse a post without its CSRF token (sign-up, upload, sharing,
consent, deleting).
Every page is checked as it loads (tests/browser_harness.py): status, console, labels,
axe-core, and no sideways scroll at 390 px."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import URIRef
from rdflib.compare import isomorphic

from apps.sdk import (
    ClientIdDocument,
    CodeFlow,
    Contribution,
    Forbidden,
    PodClient,
    Session,
    access_need,
    client_credentials,
    publish_client_document,
)
from tests.browser_harness import (
    DESKTOP,
    PHONE,
    Chromium,
    LoopbackPage,
    Tab,
    Width,
    in_thread,
    launch,
    require_browser,
)
from tests.conftest import Server, new_server
from tests.test_accounts import signup
from tests.test_pod_archive import by_path, graph, members

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
NOTE = "Repair café, Saturday 10:00.\nBring a kettle.\n".encode()


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour (8-bit RGB, no interlace: PNG §11.2), for pictures to upload."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


KETTLE = png(48, 32, (31, 111, 92))
FACE = png(24, 24, (200, 120, 40))


# --- what both journeys share: a browser, two servers, a demo app --------------------------

@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    require_browser()
    browser = launch()
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def servers(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Server, Server]]:
    """The owner's server, and another one an archive moves to (made and started side by
    side: each takes seconds)."""
    places = [tmp_path_factory.mktemp(name) for name in ("home", "other")]
    with ThreadPoolExecutor(2) as pool:
        home, other = pool.map(new_server, places)
        try:
            list(pool.map(Server.start, (home, other)))
            yield home, other
        finally:
            other.stop()
            home.stop()


@dataclass(frozen=True)
class DemoApp:
    """A community's app: a Client ID Document in its pod, and the app's redirect URI."""

    client_id: str
    name: str
    listener: LoopbackPage


@pytest.fixture(scope="module")
def demo(servers: tuple[Server, Server]) -> Iterator[DemoApp]:
    home, _ = servers
    listener = LoopbackPage()
    community = home.create_account("riverside")
    document = ClientIdDocument(
        client_id=community["pod"] + "board.json", client_name="Riverside board",
        redirect_uris=[listener.redirect_uri],
        needs=[access_need(id="contributions", cls="cp:Contribution", modes=["read"],
                           purpose="dpv:ServiceProvision", duration="P90D",
                           description="Show your contributions on the community board."),
               access_need(id="rewards", cls="cp:RewardStatement", modes=["append"],
                           purpose="dpv:ServiceProvision", duration="P30D",
                           description="Give you the badges the community awards you.")])

    async def publish() -> None:
        session = await client_credentials(community["issuer"], community["client_id"],
                                           community["client_secret"])
        async with PodClient(session) as pod:
            await publish_client_document(pod, document)

    in_thread(publish)
    yield DemoApp(document.client_id, "Riverside board", listener)
    listener.close()


# --- one journey per width -----------------------------------------------------------------

@dataclass
class Owner:
    """Someone using a browser tab on a server."""

    tab: Tab
    server: Server
    name: str

    @property
    def pod(self) -> str:
        return f"{self.server.base}{self.name}/"

    @property
    def webid(self) -> str:
        return self.pod + "profile/card#me"

    def url(self, path: str) -> str:
        return self.server.base + path.lstrip("/")


@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=lambda w: w.name)
def test_the_owners_journey(width: Width, chromium: Chromium, servers: tuple[Server, Server],
                            demo: DemoApp) -> None:
    home, other = servers
    suffix = "" if width == DESKTOP else f"-{width.name}"  # the servers are the module's own
    me = Owner(chromium.tab(width, "owner"), home, "amara" + suffix)
    with me.tab.step("sign up"):
        sign_up(me, forged_first=True)
    with me.tab.step("every page of the navigation"):
        every_page(me)
    with me.tab.step("edit the profile"):
        edit_profile(me)
    with me.tab.step("upload two files"):
        note = upload(me)
    with me.tab.step("add a contribution"):
        add_contribution(me)
    friend = Owner(chromium.tab(width, "friend"), home, "ben" + suffix)
    with me.tab.step("share a file"):
        share(me, note, friend)
    with friend.tab.step("see what was shared"):
        sees_shared(friend, note)
    with me.tab.step("authorize a demo app, in part"):
        session = authorize(me, demo)
    with me.tab.step("see the app in the access log"):
        sees_app_in_log(me, demo, session)
    with me.tab.step("withdraw consent"):
        withdraw(me, demo, session)
    with me.tab.step("export the pod"):
        archive = export(me)
    moved = Owner(chromium.tab(width, "moved"), other, me.name)
    with moved.tab.step("import on another server"):
        again = import_and_export(moved, archive)
        same_pod(archive, again, me, moved)
    with me.tab.step("delete the account"):
        delete(me)
    for who in (me, friend, moved):
        who.tab.finish()


NAVIGATION = ("Dashboard", "Pod", "Profile", "Contributions", "Statements", "Apps",
              "Access log", "Shared with you", "Export", "Delete account")


def sign_up(me: Owner, *, forged_first: bool = False) -> None:
    """Sign up on the page; with ``forged_first``, a post without the CSRF token is refused
    first (and makes no account: the name is still free)."""
    page = me.tab.page

    def fill() -> None:
        page.locator("input[name=name]").fill(me.name)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=confirm]").fill(PASSWORD)

    if forged_first:
        me.tab.goto(me.url("/.account/signup"))
        fill()
        strip_csrf(me.tab)
        me.tab.click(page.get_by_role("button", name="Create account"), status=403)
        readable_refusal(me.tab)
    me.tab.goto(me.url("/.account/signup"))
    fill()
    me.tab.shot("signup")
    me.tab.click(page.get_by_role("button", name="Create account"))
    assert page.url == me.url("/.account/")
    assert me.name in page.locator("header").inner_text()
    me.tab.shot("new-account")


def every_page(me: Owner) -> None:
    """Each page of the navigation opens from it, as a new account sees it."""
    for label in NAVIGATION:
        me.tab.nav(label)


def edit_profile(me: Owner) -> None:
    page = me.tab.page
    me.tab.nav("Profile")
    page.locator("input[name=name]").fill("Amara Okafor")
    page.locator("input[name=photo]").set_input_files(files=[
        {"name": "amara.png", "mimeType": "image/png", "buffer": FACE}])
    page.locator("textarea[name=bio]").fill("I fix kettles at the Riverside repair café.")
    page.locator("textarea[name=links]").fill("https://riverside.example/people/amara")
    me.tab.click(page.get_by_role("button", name="Save profile"))
    assert "saved" in page.get_by_role("status").inner_text()
    assert decoded(page.locator("img.photo"))
    me.tab.shot("profile")
    card = httpx.get(me.webid.split("#")[0], headers={"Accept": "text/turtle"})
    assert card.status_code == 200  # public, as a profile is
    assert "Amara Okafor" in card.text and "repair café" in card.text


def upload(me: Owner) -> str:
    """Upload a note and a picture into the pod's root, open the picture; the note's URL."""
    page = me.tab.page
    files = [{"name": "repair-cafe.txt", "mimeType": "text/plain", "buffer": NOTE},
             {"name": "kettle.png", "mimeType": "image/png", "buffer": KETTLE}]
    me.tab.nav("Pod")
    page.locator("input[name=files]").set_input_files(files=files)
    strip_csrf(me.tab)
    me.tab.click(page.get_by_role("button", name="Upload", exact=True), status=403)
    readable_refusal(me.tab)
    me.tab.goto(me.pod)  # "reload the page and try again"
    assert "repair-cafe.txt" not in page.locator("main").inner_text()  # nothing was written
    page.locator("input[name=files]").set_input_files(files=files)
    me.tab.click(page.get_by_role("button", name="Upload", exact=True))
    listing = page.locator("main table").inner_text()
    assert "repair-cafe.txt" in listing and "kettle.png" in listing
    me.tab.shot("pod")
    me.tab.click(page.get_by_role("link", name="kettle.png"))
    assert page.url == me.pod + "kettle.png"
    assert decoded(page.locator("main img"))
    me.tab.shot("picture")
    main = page.get_by_role("main")
    me.tab.click(main.get_by_role("link", name="Delete"))  # asks first; kept
    assert "cannot be undone" in main.inner_text()
    me.tab.click(main.get_by_role("link", name="Keep it"))
    assert page.url == me.pod + "kettle.png"
    me.tab.goto(me.pod)
    me.tab.click(main.get_by_role("link", name="New document"))  # the editor opens
    assert page.locator("textarea").count() == 1
    return me.pod + "repair-cafe.txt"


def add_contribution(me: Owner) -> None:
    """A contribution without a kind and with words for an address is refused by the shape,
    with its messages beside those fields; fixed, it is kept."""
    page = me.tab.page
    me.tab.nav("Contributions")
    me.tab.click(page.get_by_role("main").get_by_role("link", name="Add a contribution"))
    page.locator("input[name=name]").fill("Fixed three kettles at the repair café")
    page.locator("input[name=scope]").fill("the repair café")
    page.locator("input[name=date]").fill("2026-11-28")
    page.locator("input[name=hours]").fill("3.5")
    me.tab.click(page.get_by_role("button", name="Add contribution"), status=422)
    for field in ("kinds", "scope"):
        assert page.locator(f"#{field}-error").is_visible(), f"no message beside {field}"
    assert page.locator("input[name=scope]").get_attribute("aria-invalid") == "true"
    me.tab.shot("contribution-refused")
    page.get_by_label("Care work").check()
    page.locator("input[name=scope]").fill("https://riverside.example/projects/repair-cafe")
    me.tab.click(page.get_by_role("button", name="Add contribution"))
    assert page.url.startswith(me.url("/.account/contributions"))
    assert "Fixed three kettles" in page.locator("main").inner_text()
    me.tab.shot("contributions")


def share(me: Owner, note: str, friend: Owner) -> None:
    """Share the note with the friend (read), after a post without its CSRF token fails."""
    with httpx.Client(base_url=friend.server.base, timeout=20) as elsewhere:
        assert signup(elsewhere, friend.name, PASSWORD).status_code == 303
    page = me.tab.page
    me.tab.goto(note)
    assert NOTE.decode().splitlines()[0] in page.locator("main pre").inner_text()
    me.tab.click(page.get_by_role("main").get_by_role("link", name="Share"))
    share_page = page.url
    assert share_page == me.url("/.account/share?" + urlencode({"resource": note}))
    page.locator("input[name=who]").fill(friend.webid)
    page.locator("input[name=read]").check()
    strip_csrf(me.tab)
    me.tab.click(page.get_by_role("button", name="Share", exact=True), status=403)
    readable_refusal(me.tab)
    me.tab.goto(share_page)
    assert friend.webid not in page.content()  # nothing was shared
    page.locator("input[name=who]").fill(friend.webid)
    page.locator("input[name=read]").check()
    me.tab.shot("share")
    me.tab.click(page.get_by_role("button", name="Share", exact=True))
    assert "Shared." in page.get_by_role("status").inner_text()
    assert friend.webid in page.content()
    assert httpx.get(note).status_code == 401  # still not public


def sees_shared(friend: Owner, note: str) -> None:
    """The friend signs in with the keyboard alone, finds the note on the dashboard and in
    "shared with you", and opens it."""
    page = friend.tab.page
    friend.tab.goto(friend.url("/.account/login"))
    assert focused(page) == "input name"  # the first field has the focus
    page.keyboard.type(friend.name)
    page.keyboard.press("Tab")
    assert focused(page) == "input password"
    page.keyboard.type(PASSWORD)
    friend.tab.follow(lambda: page.keyboard.press("Enter"))
    assert page.url == friend.url("/.account/")
    page.keyboard.press("Tab")  # the first stop on every page skips to its content
    assert focused(page) == "a Skip to content"
    page.keyboard.press("Enter")
    assert focused(page) == "main main"
    assert page.get_by_role("main").get_by_role("link", name="repair-cafe.txt").count() == 1
    friend.tab.nav("Shared with you")
    link = page.get_by_role("main").get_by_role("link", name="repair-cafe.txt")
    assert link.get_attribute("href") == note
    friend.tab.shot("shared-with-you")
    friend.tab.click(link)  # signed in means signed in, on someone else's pod too
    assert NOTE.decode().splitlines()[0] in page.locator("main pre").inner_text()


def authorize(me: Owner, demo: DemoApp) -> Session:
    """The app asks for contributions (read) and rewards (append); the owner allows only the
    first. Returns the app's session."""
    flow = in_thread(lambda: CodeFlow.start(me.server.base, demo.client_id,
                                            demo.listener.redirect_uri))
    page = me.tab.page
    called_back = len(demo.listener.seen)
    me.tab.goto(flow.url)
    strip_csrf(me.tab)
    me.tab.click(page.get_by_role("button", name="Allow what is ticked"), status=403)
    readable_refusal(me.tab)
    assert len(demo.listener.seen) == called_back  # the app got nothing
    me.tab.goto(flow.url)
    assert demo.name in page.locator("h1").inner_text()
    page.locator("input[name=need-rewards]").uncheck()
    me.tab.shot("consent")
    me.tab.click(page.get_by_role("button", name="Allow what is ticked"))
    assert page.url.startswith(demo.listener.redirect_uri)
    session = in_thread(lambda: flow.finish(page.url))
    assert session.webid == me.webid
    return session


def sees_app_in_log(me: Owner, demo: DemoApp, session: Session) -> None:
    """The app reads what it was allowed and is refused the rest; the log shows both."""
    async def use() -> tuple[list[str], Forbidden | None]:
        async with PodClient(session) as app:
            mine = await app.collect(me.pod, Contribution)
            names = [c.name for c in mine.records if isinstance(c, Contribution)]
            try:
                await app.get(me.pod + "settings/prefs.ttl")
            except Forbidden as refused:
                return names, refused
        return names, None

    names, refused = in_thread(use)
    assert names == ["Fixed three kettles at the repair café"] and refused is not None
    page = me.tab.page
    me.tab.goto(me.url("/.account/"))  # back from the app, to the dashboard
    me.tab.nav("Access log")
    apps = page.locator("#log-app")
    assert demo.name in apps.inner_text() and "refused" in apps.inner_text()
    assert "settings/prefs.ttl" in apps.inner_html()
    me.tab.shot("access-log")
    me.tab.nav("Dashboard")
    assert demo.name in page.locator("main").inner_text()
    me.tab.shot("dashboard")


def withdraw(me: Owner, demo: DemoApp, session: Session) -> None:
    page = me.tab.page
    me.tab.nav("Apps")
    assert demo.name in page.locator("main").inner_text()
    me.tab.shot("apps")
    me.tab.click(page.get_by_role("button", name="Withdraw consent"))  # the only grant
    assert "withdrawn" in page.get_by_role("status").inner_text()

    async def use() -> bool:
        async with PodClient(session) as app:
            try:
                await app.collect(me.pod, Contribution)
            except Forbidden:
                return False
        return True

    assert not in_thread(use), "the app still reads after consent was withdrawn"


def export(me: Owner) -> bytes:
    page = me.tab.page
    me.tab.nav("Export")
    me.tab.shot("export")
    archive = me.tab.download(page.get_by_role("button", name=re.compile("Download")))
    manifest, files = members(archive)
    kept = by_path(manifest, files)
    assert kept["/repair-cafe.txt"][1] == NOTE and kept["/kettle.png"][1] == KETTLE
    assert any(p.startswith("/contributions/") and not p.endswith("/") for p in kept)
    return archive


def import_and_export(moved: Owner, archive: bytes) -> bytes:
    """A new account on the other server takes the archive in; its own export comes back."""
    sign_up(moved)
    page = moved.tab.page
    moved.tab.click(page.get_by_role("main").get_by_role("link", name="import one"))
    page.locator("input[name=archive]").set_input_files(files=[{
        "name": "pod.zip", "mimeType": "application/zip", "buffer": archive}])
    moved.tab.shot("import")
    moved.tab.click(page.get_by_role("button", name="Import", exact=True))
    manifest, _ = members(archive)
    assert f"Imported {len(manifest['resources'])} resources" in " ".join(
        page.get_by_role("status").inner_text().split())
    return export(moved)


def same_pod(before: bytes, after: bytes, me: Owner, moved: Owner) -> None:
    """Every resource arrived: binaries byte for byte, RDF isomorphic once the pod moved."""
    exported = by_path(*members(before))
    imported = by_path(*members(after))
    assert set(imported) == set(exported)
    for path, (entry, body) in exported.items():
        entry2, body2 = imported[path]
        assert entry2["content_type"] == entry["content_type"], path
        if entry["kind"] == "binary" or entry["content_type"] == "application/ld+json":
            assert body2 == body, path
            continue
        old = graph(body, "turtle", me.pod + path[1:], (me.pod, moved.pod))
        new = graph(body2, "turtle", moved.pod + path[1:])
        if path == "/profile/card":  # the WebID's issuer is now the other server
            issuer = URIRef("http://www.w3.org/ns/solid/terms#oidcIssuer")
            old.remove((URIRef(moved.webid), issuer, URIRef(me.server.base)))
            old.add((URIRef(moved.webid), issuer, URIRef(moved.server.base)))
        assert isomorphic(old, new), path


def delete(me: Owner) -> None:
    """Deleting needs the password, the name typed again, and the form's CSRF token."""
    page = me.tab.page

    def fill() -> None:
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=confirm]").fill(me.name)

    me.tab.nav("Delete account")
    fill()
    strip_csrf(me.tab)
    me.tab.click(page.get_by_role("button", name=re.compile("Delete")), status=403)
    readable_refusal(me.tab)
    me.tab.goto(me.url("/.account/delete"))  # still there
    fill()
    me.tab.shot("delete")
    me.tab.click(page.get_by_role("button", name=re.compile("Delete")))
    assert page.url == me.url("/.account/deleted")
    assert httpx.get(me.pod).status_code == 404
    me.tab.goto(me.url("/.account/"))
    assert page.url.startswith(me.url("/.account/login"))


# --- helpers -------------------------------------------------------------------------------

def focused(page: Any) -> str:
    """The element that has the keyboard's focus: its tag, then its name, id or text."""
    return str(page.evaluate("""() => { const e = document.activeElement;
        return e.tagName.toLowerCase() + ' ' + (e.name || e.id || e.textContent.trim()); }"""))


def decoded(image: Any) -> bool:
    """The image loaded and decoded (it has a width of its own)."""
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def strip_csrf(tab: Tab) -> None:
    """Take the CSRF token out of every form on the page, as a forged form would lack it."""
    tab.page.evaluate("() => document.querySelectorAll('input[name=csrf]')"
                      ".forEach(e => e.remove())")


def readable_refusal(tab: Tab) -> None:
    """A refused form answers a page for a person: a heading and words, no JSON or trace."""
    text = tab.page.locator("body").inner_text()
    assert tab.page.locator("h1").count() == 1
    assert "Traceback" not in text and not text.lstrip().startswith("{")

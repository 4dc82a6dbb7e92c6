"""One layout for every page (issue #14): the navigation, the skip link, one cacheable
stylesheet and no inline styles, the dashboard, and how pages word times, sizes and names —
against a live server (the display functions also directly, with a fixed clock)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest

from pod.display import ago, exact, iri_name, size, when
from tests.conftest import Server, cli
from tests.test_sharing import Person, person, put

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NAV = ["/.account/", "/.account/profile", "/.account/contributions", "/.account/statements",
       "/.account/grants", "/.account/log", "/.account/shared", "/.account/export",
       "/.account/delete"]


@pytest.fixture(scope="module")
def owner(server: Server) -> Iterator[Person]:
    someone = person(server, "pages")
    yield someone
    someone.browser.close()


def owner_pages(who: Person) -> list[str]:
    return ["/.account/", "/.account/grants", "/.account/log", "/.account/shared",
            "/.account/export", "/.account/import", "/.account/delete", "/.account/password",
            "/.account/share?" + urlencode({"resource": who.pod}), who.pod,
            who.pod + "profile/card",
            "/.account/pod/edit?" + urlencode({"container": who.pod}),
            "/.account/pod/delete?" + urlencode({"resource": who.pod + "profile/"})]


def test_every_page_has_the_navigation_a_skip_link_and_one_stylesheet(owner: Person) -> None:
    for page in owner_pages(owner):
        got = owner.browser.get(page, headers=BROWSER)
        assert got.status_code == 200, page
        text = got.text
        nav = re.search(r'<nav class="main".*?</nav>', text, re.S)
        assert nav, page
        links = re.findall(r'href="([^"]+)"', nav[0])
        assert [*NAV[:1], owner.pod, *NAV[1:]] == links, page
        assert '<a class="skip" href="#main">' in text and '<main id="main"' in text, page
        assert len(re.findall(r'rel="stylesheet"', text)) == 1, page
        assert "<style" not in text and " style=" not in text, page
        csp = got.headers["content-security-policy"]
        assert "style-src 'self'" in csp and "unsafe-inline" not in csp, page
    dashboard = owner.browser.get("/.account/").text
    assert re.search(r'<a href="/\.account/" aria-current="page">Dashboard</a>', dashboard)
    pod_page = owner.browser.get(owner.pod, headers=BROWSER).text
    assert f'<a href="{owner.pod}" aria-current="page">Pod</a>' in pod_page


def test_the_stylesheet_is_one_cacheable_static_file(server: Server, owner: Person) -> None:
    page = owner.browser.get("/.account/").text
    link = re.search(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert link and link[1].startswith("/.static/commonpod.css?v=")
    with httpx.Client(base_url=server.base, timeout=10) as anyone:
        css = anyone.get(link[1])
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert "immutable" in css.headers["cache-control"]
        assert "overflow-wrap: anywhere" in css.text and ":focus-visible" in css.text
        again = anyone.get(link[1], headers={"if-none-match": css.headers["etag"]})
        assert again.status_code == 304
        for name in ("nothing.css", "..%2fbase.html", "base.html"):
            missing = anyone.get("/.static/" + name)
            assert missing.status_code == 404, name


def test_the_dashboard_shows_storage_accesses_and_next_steps(
        server: Server, owner: Person) -> None:
    other = person(server, "visitor")
    try:
        first = owner.browser.get("/.account/").text
        assert "What to do next" in first  # a new account
        usage = json.loads(cli("pod", "usage", owner.name, data_dir=server.data_dir).stdout)
        assert size(usage["used"]["bytes"]) in first
        assert f'{usage["used"]["resources"]} files and folders' in first
        put(owner, owner.pod + "public/hello.txt", b"hello")
        share = owner.browser.get("/.account/share", params={
            "resource": owner.pod + "public/hello.txt"})
        csrf = re.search(r'name="csrf" value="([^"]+)"', share.text)
        assert csrf
        owner.browser.post("/.account/share", data={
            "csrf": csrf[1], "resource": owner.pod + "public/hello.txt",
            "kind": "person", "who": other.webid, "read": "1"})
        assert other.api.request("GET", owner.pod + "public/hello.txt").status_code == 200
        later = owner.browser.get("/.account/").text
        assert "What to do next" not in later
        recent = re.search(r'<section aria-labelledby="recent">.*?</section>', later, re.S)
        assert recent and f'href="{other.webid}"' in recent[0]
        assert f'href="{owner.pod}public/hello.txt"' in recent[0] and ">hello.txt<" in recent[0]
        assert "just now" in recent[0] and "<time datetime=" in recent[0]
        assert 'href="/.account/delete"' in later and 'href="/.account/statements"' in later
        assert "0</span> reward and reputation statements" in later
        shared = other.browser.get("/.account/").text  # their dashboard: "shared with you"
        assert "hello.txt" in re.search(r'class="shared-with-you".*?</section>', shared,
                                        re.S)[0]  # type: ignore[index]
    finally:
        other.browser.close()


def test_times_sizes_and_names_read_as_words() -> None:
    now = datetime(2026, 12, 6, 15, 26, tzinfo=UTC)
    assert ago(now - timedelta(seconds=10), now) == "just now"
    assert ago(now - timedelta(minutes=3), now) == "3 minutes ago"
    assert ago(now - timedelta(hours=5), now) == "5 hours ago"
    assert ago(now - timedelta(days=1, hours=2), now) == "yesterday"
    assert ago(now - timedelta(days=3), now) == "3 days ago"
    assert ago(now - timedelta(days=40), now) == "27 Oct 2026"
    assert ago(now.timestamp() - 120, now) == "2 minutes ago"
    assert ago("2026-12-06T15:20:00Z", now) == "6 minutes ago"
    assert exact(now) == "6 Dec 2026, 15:26 UTC"
    tag = str(when(now - timedelta(minutes=3), now))
    assert tag == ('<time datetime="2026-12-06T15:23:00+00:00" title="6 Dec 2026, 15:23 UTC">'
                   "3 minutes ago</time>")
    assert [size(n) for n in (0, 1, 900, 2048, 1536 * 1024, 30 * 1024 ** 3)] == [
        "0 bytes", "1 byte", "900 bytes", "2.0 KB", "1.5 MB", "30 GB"]
    assert iri_name("https://pod.example/alice/docs/My%20notes.txt") == "My notes.txt"
    assert iri_name("https://pod.example/alice/docs/") == "docs/"
    assert iri_name("https://pod.example/alice/profile/card#me") == "alice"
    assert iri_name("https://pod.example/alice/profile/card#me",
                    {"https://pod.example/alice/profile/card#me": "Alice"}) == "Alice"
    assert iri_name("https://app.example/id#app") == "app"
    assert iri_name("https://app.example/") == "app.example"

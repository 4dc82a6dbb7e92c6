"""The shared view's privacy through its pages, on one live server and the app as a process:
differential-privacy noise from OpenDP with ε per release and the budget spent shown and
recorded in the community's pod (and no release past the budget); k-suppression with a small
k; bad input answered with a readable 4xx and nothing stored; every route fuzzed; a pod that
answers 403 at a refresh loses its member."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.sdk import Graph, PodClient, client_credentials
from apps.shared_view.model import Member, ledger_from, members_from, members_graph
from tests.conftest import Server, new_server
from tests.shared_view import App, community_document, contribute, figures, join, servers
from tests.test_accounts import csrf_of

PROJECT = "https://choir.example/#choir"
CP = "https://commonpod.org/ns#"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    srv = new_server(tmp_path_factory.mktemp("privacy"))
    srv.start()
    community = srv.create_account("choir")
    people = {n: srv.create_account(n) for n in ("cal", "cy", "cam")}
    for n, who in people.items():
        contribute(who, [("c1", PROJECT, CP + "EventOrganising", "2025-09-01")]
                   + ([("c2", PROJECT, CP + "Translation", "2025-10-01")] if n == "cal" else []))
    noisy = App(tmp_path_factory.mktemp("noisy"), community, (
        "--name", "The choir", "--project", f"{PROJECT}=Choir", "--k", "2",
        "--epsilon", "1", "--budget", "2.5", "--noise-cap", "5"))
    try:
        noisy.start()
        yield {"srv": srv, "app": noisy, "people": people, "community": community}
    finally:
        noisy.stop()
        srv.stop()


def _spent(page: httpx.Response) -> tuple[str, str]:
    spent = re.search(r'<strong id="spent">([^<]+)</strong>', page.text)
    budget = re.search(r'<strong id="budget">([^<]+)</strong>', page.text)
    assert spent and budget, page.text
    return spent.group(1), budget.group(1)


def _releases(world: dict[str, object]) -> list[Decimal]:
    """The ε of each release the ledger in the community's pod records."""
    community: dict[str, str] = world["community"]  # type: ignore[assignment]
    text = community_document(community, "ledger.ttl")
    parsed = Graph.parse(text, base_iri=community["pod"] + "shared-view/ledger.ttl")
    return [r.epsilon for r in ledger_from(parsed).releases]


def test_noise_spends_the_budget_release_by_release_and_stops(world: dict[str, object]) -> None:
    srv, app = world["srv"], world["app"]
    assert isinstance(srv, Server) and isinstance(app, App)
    people: dict[str, dict[str, str]] = world["people"]  # type: ignore[assignment]
    before = app.refresh()
    assert _spent(before) == ("0", "2.5")  # no member yet: nothing shown, nothing spent
    assert figures(before)["total"] == "fewer than 2 members"
    for name in ("cal", "cy"):  # the first release comes with the second member (k = 2)
        _, page = join(app, srv, name, people[name]["webid"], untick=("named",))
        assert page.status_code == 200, page.text
    page = app.refresh()  # nothing changed: no new release
    assert _spent(page) == ("1.000000", "2.5")
    assert "ε = 1 per release" in page.text and "1 release." in page.text
    shown = figures(page)
    for key in ("total", PROJECT, CP + "EventOrganising", "2025-09"):  # two members: shown
        assert shown[key].isdigit(), (key, shown)  # noisy, but a count
    assert shown[CP + "Translation"] == "fewer than 2 members"  # cal alone

    _, joined = join(app, srv, "cam", people["cam"]["webid"], untick=("named",))
    assert joined.status_code == 200
    second = app.refresh()
    assert _spent(second) == ("2.000000", "2.5") and "2 releases" in second.text
    assert _releases(world) == [Decimal(1), Decimal(1)]  # ε as OpenDP measured it

    # the figures change again, but a third release would pass the budget: the last stays
    contribute(people["cy"], [("c3", PROJECT, CP + "Translation", "2025-10-02")])
    after = app.refresh()
    assert _spent(after) == ("2.000000", "2.5") and figures(after) == figures(second)
    assert _releases(world) == [Decimal(1), Decimal(1)]

def test_bad_input_gets_a_readable_page_and_changes_nothing(world: dict[str, object]) -> None:
    app = world["app"]
    assert isinstance(app, App)
    members = community_document(world["community"], "members.ttl")  # type: ignore[arg-type]
    with httpx.Client(timeout=30) as b:
        token = csrf_of(b.get(app.base + "join"))
        no_token = b.post(app.base + "join", data={"who": "https://pods.example/"})
        assert no_token.status_code == 403 and "<html" in no_token.text
        assert "reload the page" in no_token.text
        for who, says in (("", "Give your WebID"), ("not a url", "https://"),
                          ("ftp://pods.example/", "https://"),
                          ("http://127.0.0.1:1/", "not a Solid server")):
            page = b.post(app.base + "join", data={"csrf": token, "who": who})
            assert page.status_code == 400 and says in page.text, (who, page.text)
        stray = b.get(app.base + "join/callback?state=forged&code=x")
        assert stray.status_code == 400 and "not started from this browser" in stray.text
        leave = b.post(app.base + "leave", data={"csrf": token})
        assert leave.status_code == 403 and "Not signed in" in leave.text
        missing = b.get(app.base + "nothing-here")
        assert missing.status_code == 404 and "<html" in missing.text
        hook = b.post(app.base + "hooks/grants", content=b"not.a.jwt")
        assert hook.status_code == 400
        assert hook.headers["content-type"].startswith("application/problem+json")
        refresh = b.post(app.base + "refresh", data={"csrf": "wrong" * 8})
        assert refresh.status_code == 403
    assert community_document(world["community"], "members.ttl") == members  # type: ignore[arg-type]


ROUTES = [("GET", "/"), ("POST", "/refresh"), ("GET", "/join"), ("POST", "/join"),
          ("GET", "/join/callback"), ("GET", "/you"), ("POST", "/leave"),
          ("POST", "/hooks/grants")]
TEXT = st.text(st.characters(codec="utf-8"), max_size=60)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), fields=st.dictionaries(
    st.sampled_from(["csrf", "who", "state", "code", "x"]), TEXT, max_size=3),
    body=st.binary(max_size=200), as_form=st.booleans(), with_cookie=st.booleans())
def test_every_route_of_the_app_answers_fuzzed_requests_without_a_server_error(
        world: dict[str, object], route: tuple[str, str], fields: dict[str, str],
        body: bytes, as_form: bool, with_cookie: bool) -> None:
    app = world["app"]
    assert isinstance(app, App)
    method, path = route
    cookies = {}
    if with_cookie:  # a valid CSRF pair: the request reaches the handler's own checks
        cookies["sv_csrf"] = fields["csrf"] = "fuzz-token-" + "x" * 24
    with httpx.Client(timeout=30, cookies=cookies) as b:
        if method == "GET":
            r = b.get(app.base + path.lstrip("/"), params=fields)
        elif as_form:
            r = b.post(app.base + path.lstrip("/"), data=fields)
        else:
            r = b.post(app.base + path.lstrip("/"), content=body,
                       headers={"Content-Type": "application/octet-stream"})
    assert r.status_code < 500, (route, fields, r.text[:500])
    if r.status_code >= 400:
        kind = r.headers.get("content-type", "")
        assert kind.startswith("application/problem+json" if path.startswith("/hooks/")
                               else "text/html"), (route, kind)


class Refusing:
    """A stand-in for a member's server that answers every request 403 (as a pod does once the
    member withdrew the grant)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b'{"type": "about:blank", "title": "Forbidden", "status": 403}'
                self.send_response(403)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_a_pod_that_answers_403_at_a_refresh_loses_its_member(world: dict[str, object]) -> None:
    app = world["app"]
    assert isinstance(app, App)
    community: dict[str, str] = world["community"]  # type: ignore[assignment]
    refusing = Refusing()
    try:
        gone = refusing.base + "dee/profile/card#me"
        members_doc = community["pod"] + "shared-view/members.ttl"

        async def add() -> None:  # as the community, in its own pod
            session = await client_credentials(community["issuer"], community["client_id"],
                                               community["client_secret"])
            async with PodClient(session) as pod:
                got = await pod.get(members_doc, accept="text/turtle")
                graph = Graph.parse(got.body, base_iri=members_doc)
                members = members_from(members_doc, graph)
                members[gone] = Member(gone, refusing.base + "dee/", refusing.base)
                await pod.put(members_doc, members_graph(members_doc, members).to_turtle(),
                              content_type="text/turtle", if_match=got.etag)

        asyncio.run(add())
        page = app.refresh()
        assert servers(page)[refusing.base] == (0, 0, 1)
        assert gone not in community_document(community, "members.ttl")
        assert refusing.base not in servers(app.refresh())  # not asked again
    finally:
        refusing.httpd.shutdown()

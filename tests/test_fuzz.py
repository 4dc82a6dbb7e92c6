"""A bounded fuzz test over every route of a live server (issue #9 §4): anonymous, signed-in
and DPoP-authenticated requests with odd paths, queries, headers and bodies mutated from valid
ones. No answer may be a 5xx or take longer than the client's timeout, the server log may show
no traceback, a refused write leaves the stored resource as it was, and the server is healthy
afterwards. Examples are derandomized and fixed in number, so every run sends the same
requests (tests/fuzz_routes.py says how each route is reached)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import fuzz_inputs as fi
from tests.conftest import new_server
from tests.dpop import DPoPClient, operator_token
from tests.fuzz_client import Call, Cast, Fuzzer, side_door, sign_in, visit
from tests.fuzz_routes import LDP, RECIPES, headers, payload, registration, unrouted
from tests.routes import served
from tests.test_oidc_code_flow import REDIRECT

PASSWORD = "a long enough password"
#: examples per route (the default for the rest): writes and patches get the most
EXAMPLES = {(LDP, "GET"): 80, (LDP, "PUT"): 150, (LDP, "POST"): 100, (LDP, "PATCH"): 200,
            (LDP, "DELETE"): 40, ("/.oidc/reg", "POST"): 80, ("/.oidc/token", "POST"): 60,
            ("/.oidc/auth", "GET"): 50, ("/.oidc/auth", "POST"): 40,
            ("/.api/grants/revoke", "POST"): 30, ("/.api/collect", "GET"): 40}
DEFAULT_EXAMPLES = 25
FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=False,
                report_multiple_bugs=False,
                suppress_health_check=list(HealthCheck))


def server_routes() -> set[tuple[str, str]]:
    """Every (path, method) the app serves (tests/routes.py walks them from the app)."""
    return {(route.path, route.method) for route in served()}


ROUTES = sorted(server_routes() | set(RECIPES))


def signup(c: httpx.Client, name: str) -> None:
    page = c.get("/.account/signup")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    done = c.post("/.account/signup", data={"csrf": token.group(1), "name": name,
                                             "password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 303, done.text


def credential(c: httpx.Client, label: str) -> dict[str, str]:
    """A client credential made on the account page (the secret is shown once)."""
    home = c.get("/.account/")
    token = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert token, home.text
    made = c.post("/.account/credentials", data={"csrf": token.group(1), "label": label})
    found = re.findall(r"<code>([^<]+)</code>", made.text.split('role="status"', 1)[1])
    return {"client_id": found[0], "client_secret": found[1]}


def account(server_base: str, c: httpx.Client, name: str,
            credentials: int = 0) -> dict[str, str]:
    signup(c, name)
    made = {"name": name, "password": PASSWORD, "pod": f"{server_base}{name}/",
            "webid": f"{server_base}{name}/profile/card#me"}
    for n in range(credentials):
        made |= {k + ("" if n == 0 else f"_{n}"): v
                 for k, v in credential(c, f"fuzz {n}").items()}
    return made


FORGED = [{"webid": 123}, {"webid": "not a url"}, {"cnf": {}}, {"exp": 0}, {"aud": [1]},
          {"iss": fi.NOWHERE}, {"client_id": ["x"], "scope": 5}, {"webid": None}]


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    srv = new_server(tmp_path_factory.mktemp("fuzz"))
    srv.create_pod("pub", "--public-write")
    srv.start()
    try:
        base = srv.base
        with side_door(srv) as c:
            owner = account(base, c, "fuzz", credentials=2)
        with side_door(srv) as c:
            other = account(base, c, "other", credentials=1)
        for name in ("spare", "zed"):
            with side_door(srv) as c:
                account(base, c, name)
        owner_dpop = DPoPClient(base, owner)
        app = httpx.post(base + ".oidc/reg", json=registration(REDIRECT))
        assert app.status_code == 201, app.text
        forged = [operator_token(srv.data_dir, base, **{"webid": owner["webid"], **change})
                  for change in FORGED]
        session = sign_in(srv, "fuzz", PASSWORD)
        assert session is not None
        cast = Cast(srv, owner, owner_dpop, DPoPClient(base, other), forged,
                    app.json()["client_id"], REDIRECT,
                    {"name": "spare", "password": PASSWORD}, other,
                    throwaway=owner["client_id_1"], session=session, visitor=visit(srv))
        fuzz = Fuzzer(cast)
        assert fuzz._code(), "the owner could not consent to the app"
        grants = owner_dpop.request("GET", base + ".api/grants?pod=fuzz").json()["grants"]
        cast.grant = grants[0]["grant"]
        for path in ("known/doc.ttl", "stable/doc.ttl"):
            put = owner_dpop.request("PUT", owner["pod"] + path, content=fi.TURTLE,
                                     headers={"content-type": "text/turtle"})
            assert put.status_code == 201, put.text
        fuzz.check_log()
        yield fuzz
        fuzz.close()
    finally:
        srv.stop()


def test_every_route_has_a_recipe() -> None:
    """A new route fails here until tests/fuzz_routes.py knows how to reach it."""
    found = server_routes()
    assert found - set(RECIPES) == set(), "routes the fuzzer cannot reach"
    assert set(RECIPES) - found == set(), "recipes for routes the server no longer has"


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for p, m in ROUTES])
def test_route_survives_fuzzing(fuzzer: Fuzzer, route: tuple[str, str]) -> None:
    assert route in RECIPES, f"no fuzz recipe for {route}: add one to tests/fuzz_routes.py"
    name = f"{route[1]} {route[0]}"

    @settings(FUZZ, max_examples=EXAMPLES.get(route, DEFAULT_EXAMPLES))
    @given(RECIPES[route](fuzzer.cast))
    def run(call: Call) -> None:
        fuzzer.check(name, call)

    run()
    print(name, dict(sorted(fuzzer.statuses.get(name, {}).items())))


def test_unrouted_paths_and_wrong_methods(fuzzer: Fuzzer) -> None:
    @settings(FUZZ, max_examples=60)
    @given(unrouted(fuzzer.cast))
    def run(call: Call) -> None:
        fuzzer.check("unrouted", call)

    run()


def test_refused_writes_change_nothing(fuzzer: Fuzzer) -> None:
    """A write answered 4xx leaves the document and its container exactly as they were
    (same ETags)."""
    cast, owner = fuzzer.cast, fuzzer.as_owner
    doc, folder = cast.owner["pod"] + "stable/doc.ttl", cast.owner["pod"] + "stable/"

    def state() -> tuple[str | None, str | None]:
        if owner("HEAD", doc).status_code == 404:
            put = owner("PUT", doc, content=fi.TURTLE, headers={"content-type": "text/turtle"})
            assert put.status_code in (201, 204), put.text
        return owner("HEAD", doc).headers.get("etag"), owner("HEAD", folder).headers.get("etag")

    writes = st.sampled_from(["PUT", "PATCH", "POST", "DELETE"])
    target = st.sampled_from(["/fuzz/stable/doc.ttl", "/fuzz/stable/"])

    @st.composite
    def calls(draw: st.DrawFn) -> Call:
        method, path = draw(writes), draw(target)
        kinds = {"PATCH": ("n3patch", "sparql")}.get(method, ("turtle", "jsonld", "deep"))
        ctype, body = draw(payload(cast, kinds))
        head = draw(headers(cast, ("if-match", "if-none-match", "slug"), (fi.Live("etag"),)))
        caller = draw(st.sampled_from(["owner", "owner", "owner", "anon", "other"]))
        return Call(method, path, caller, (*head, *ctype), body if method != "DELETE" else b"")

    @settings(FUZZ, max_examples=60)
    @given(calls())
    def run(call: Call) -> None:
        before = state()
        r = fuzzer.check("refused writes", call)
        if r.status_code >= 400:
            assert state() == before, f"{r.status_code} changed what was stored: {call!r}"

    run()
    print("refused writes", dict(sorted(fuzzer.statuses["refused writes"].items())))


def test_the_server_is_healthy_afterwards(fuzzer: Fuzzer) -> None:
    assert fuzzer.server.process is not None and fuzzer.server.process.poll() is None
    r = httpx.get(fuzzer.server.base + ".well-known/solid", timeout=10)
    assert r.status_code == 200
    fuzzer.check_log()
    assert "Traceback" not in fuzzer.server.log()

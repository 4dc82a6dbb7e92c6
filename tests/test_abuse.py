"""Abuse of open endpoints and small leaks (issue #9 §5, §6), against live servers: access-log
flooding, open dynamic registration, sign-in lockout, the year-10000 log query, and the
answers of ``/.api/collect`` to a caller who may read nothing."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from auth.fetch import Fetcher
from auth.oidc.clients import RECORD, ClientInfo, Clients
from pod.runtime import open_runtime
from pod.settings import load as load_settings
from tests.conftest import Server, cli, new_server
from tests.dpop import DPoPClient, DPoPKey
from tests.test_accounts import browser, csrf_of, login, signed_in, signup
from tests.test_apps import NEEDS, member, sign_in_with_app
from tests.test_apps import PASSWORD as MEMBER_PASSWORD
from tests.test_oidc_code_flow import REDIRECT, auth_query, code_for, pkce, register, token

CP = "https://commonpod.org/ns#"
AS = "https://www.w3.org/ns/activitystreams#"
TTL = {"Content-Type": "text/turtle"}
CONTRIBUTION = """@prefix cp: <https://commonpod.org/ns#> .
@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a cp:Contribution ; vf:action vf:work ;
    vf:provider <{webid}> ; vf:inScopeOf <https://riverside.example/#community> ;
    vf:resourceClassifiedAs cp:CareWork ; vf:hasPointInTime "2025-05-01T10:00:00Z"^^xsd:dateTime ;
    schema:name "Contribution" .
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = new_server(tmp_path_factory.mktemp("abuse"))
    srv.start()
    yield srv
    srv.stop()


def log_api(srv: Server, owner: DPoPClient, **params: str) -> httpx.Response:
    return owner.request("GET", f"{srv.base}.api/log",
                         params={"pod": owner.who["pod"].rstrip("/").rsplit("/", 1)[1],
                                 **params})


# --- §6: /.api/log?to=9999-12-31 ------------------------------------------------------------

def test_the_log_answers_a_span_ending_in_year_9999(live: Server) -> None:
    owner = DPoPClient(live.base, live.create_account("yara"))
    assert httpx.get(owner.who["pod"] + "profile/card").status_code == 200  # logged
    first = log_api(live, owner)
    assert first.status_code == 200, first.text
    everything = first.json()["records"]
    assert everything, "the anonymous read of the profile is in the log"
    for params in ({"to": "9999-12-31"}, {"from": "1970-01-01", "to": "9999-12-31"}):
        got = log_api(live, owner, **params)
        assert got.status_code == 200, got.text
        assert got.json()["records"] == everything, params
    future = log_api(live, owner, **{"from": "9999-12-31"})
    assert future.status_code == 200 and future.json()["records"] == []


# --- §6: /.api/collect answers 403 to a caller who may read nothing -------------------------

def test_collect_gives_one_answer_to_a_caller_without_access(live: Server) -> None:
    owner = DPoPClient(live.base, live.create_account("zoe"))
    stranger = DPoPClient(live.base, live.create_account("xavi"))
    url = f"{live.base}.api/collect"

    def ask(who: DPoPClient, cls: str) -> httpx.Response:
        return who.request("GET", url, params={"pod": "zoe", "class": cls},
                           headers={"Accept": "text/turtle"})

    # registered and empty, unregistered: the stranger learns nothing from the answer
    empty, unregistered = ask(stranger, "cp:Contribution"), ask(stranger, "https://ex.org/X")
    assert empty.status_code == unregistered.status_code == 403, empty.text
    assert empty.headers["content-type"] == "application/problem+json"
    assert empty.json()["type"] == unregistered.json()["type"]
    assert ask(owner, "cp:Contribution").status_code == 200  # the owner sees the empty class
    body = CONTRIBUTION.format(webid=owner.who["webid"]).encode()
    put = owner.request("PUT", owner.who["pod"] + "contributions/c1", content=body, headers=TTL)
    assert put.status_code == 201, put.text
    assert ask(stranger, "cp:Contribution").status_code == 403  # and with a document in it
    full = ask(owner, "cp:Contribution")
    assert full.status_code == 200 and "Contribution" in full.text


# --- §5.3: failed sign-ins limit the guesser, not the owner ---------------------------------

OWNER_PASSWORD = "the owner's own password"
CEILING = 50  # failed sign-ins per account per hour from unknown devices (docs/auth.md)


def configured_server(tmp: Path, *settings: str) -> Server:
    """A server (not started) with ``settings.toml`` lines added."""
    srv = new_server(tmp)
    with (srv.data_dir / "settings.toml").open("a") as f:
        f.write("".join(line + "\n" for line in settings))
    return srv


def account_server(tmp: Path, *settings: str) -> Server:
    """A started server with the account ``target``."""
    srv = configured_server(tmp, *settings)
    cli("account", "create", "target", "--password-file", "-", input=OWNER_PASSWORD,
        data_dir=srv.data_dir)
    return srv.start()


def from_address(srv: Server, address: str | None = None) -> httpx.Client:
    """A browser; through the test's "proxy" (X-Forwarded-For) when ``address`` is given."""
    headers = {"X-Forwarded-For": address} if address else {}
    return httpx.Client(base_url=srv.base, timeout=30, headers=headers)


def guess(c: httpx.Client, password: str | None = None) -> httpx.Response:
    return login(c, "target", password or "wrong guess")


def test_guessing_does_not_lock_out_a_known_device(tmp_path: Path) -> None:
    srv = account_server(tmp_path)
    try:
        with from_address(srv) as owner, from_address(srv) as attacker:
            assert login(owner, "target", OWNER_PASSWORD).status_code == 303
            owner.post("/.account/logout", data={"csrf": csrf_of(owner.get("/.account/"))})
            assert not signed_in(owner)
            statuses = [guess(attacker).status_code for _ in range(6)]
            spoofed = []  # forwarded headers are ignored without trusted_proxies
            for spoof in ("203.0.113.9", "198.51.100.1"):
                attacker.headers["X-Forwarded-For"] = spoof
                spoofed.append(guess(attacker, OWNER_PASSWORD))  # the right password, even
            # the owner's browser, from the very same address, signs in at once
            assert login(owner, "target", OWNER_PASSWORD).status_code == 303
            assert signed_in(owner)
            # while the guesser backs off: the first failures in a row cost nothing, then
            # each one makes it wait (5 s first), whatever forwarded header it sends
            assert statuses[:3] == [400] * 3 and set(statuses[3:]) == {429}
            for held in spoofed:
                assert held.status_code == 429, held.text
                assert 0 < int(held.headers["retry-after"]) <= 5
                assert "Too many failed sign-ins" in held.text
            assert "cp_session" not in attacker.cookies
    finally:
        srv.stop()


def test_behind_a_proxy_each_address_backs_off_alone(tmp_path: Path) -> None:
    srv = account_server(tmp_path, 'trusted_proxies = ["127.0.0.1"]')
    try:
        with from_address(srv, "203.0.113.7") as attacker:
            for _ in range(3):
                assert guess(attacker).status_code == 400
            assert guess(attacker).status_code == 429
            # a client's own X-Forwarded-For is not believed: the proxy appends the real one
            attacker.headers["X-Forwarded-For"] = "198.51.100.2, 203.0.113.7"
            assert guess(attacker).status_code == 429
        with from_address(srv, "198.51.100.2") as owner:  # a new device, elsewhere
            assert login(owner, "target", OWNER_PASSWORD).status_code == 303
        with from_address(srv, "2001:db8:1:2::5") as other, \
                from_address(srv, "2001:db8:1:2::6") as same_net:  # one /64: one address
            for _ in range(3):
                assert guess(other).status_code == 400
            assert guess(same_net).status_code == 429
    finally:
        srv.stop()


def test_distributed_guessing_meets_the_account_ceiling(tmp_path: Path) -> None:
    srv = account_server(tmp_path, 'trusted_proxies = ["127.0.0.1/8"]')
    try:
        with from_address(srv, "192.0.2.10") as owner:
            assert login(owner, "target", OWNER_PASSWORD).status_code == 303
            for n in range(CEILING):  # one guess from each of many addresses
                with from_address(srv, f"198.18.{n // 200}.{n % 200 + 1}") as bot:
                    assert guess(bot).status_code == 400
            with from_address(srv, "192.0.2.200") as stranger:  # a device never seen
                held = guess(stranger, OWNER_PASSWORD)
                assert held.status_code == 429 and 0 < int(held.headers["retry-after"]) <= 3600
            # the owner's known device is exempt from the ceiling
            assert login(owner, "target", OWNER_PASSWORD).status_code == 303
    finally:
        srv.stop()


@pytest.mark.parametrize(("peer", "header", "client"), [
    ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # not a proxy: its header is ignored
    ("10.0.0.2", [], "10.0.0.2"),  # a proxy that forwarded nothing
    ("10.0.0.2", ["198.51.100.1, 203.0.113.5"], "203.0.113.5"),  # the hop the proxy wrote
    ("10.0.0.2", ["198.51.100.1", "203.0.113.5, 10.0.0.9"], "203.0.113.5"),  # two proxies
    ("10.0.0.2", ["10.0.0.7"], "10.0.0.7"),  # every hop trusted: the leftmost
    ("10.0.0.2", ["198.51.100.1, unknown"], "10.0.0.2"),  # garbled: the proxy that wrote it
    ("::ffff:10.0.0.2", ["[2001:db8::1]:443"], "2001:db8::1"),
    ("10.0.0.2", ["203.0.113.5:8080"], "203.0.113.5"),
])
def test_the_client_address_believes_only_trusted_proxies(peer: str, header: list[str],
                                                          client: str) -> None:
    from auth.addresses import forwarded_client  # new with the fix: the module imports on main

    trusted = (ipaddress.ip_network("10.0.0.0/8"),)
    assert forwarded_client(peer, header, trusted) == client


def test_a_trusted_proxy_that_is_no_address_is_refused_at_start(tmp_path: Path) -> None:
    srv = new_server(tmp_path)
    bad = cli("serve", "--port", str(srv.port), data_dir=srv.data_dir, check=False,
              env={"COMMONPOD_TRUSTED_PROXIES": "10.0.0.1, proxy.internal"})
    assert bad.returncode != 0 and "trusted_proxies" in bad.stderr
    assert "proxy.internal" in bad.stderr


# --- §5.2: open dynamic registration --------------------------------------------------------

REGISTRATIONS = 30  # per address per hour (docs/auth.md)


def registration(c: httpx.Client | None = None, srv: Server | None = None) -> httpx.Response:
    meta = {"redirect_uris": [REDIRECT], "client_name": "Flood", "grant_types":
            ["authorization_code"], "token_endpoint_auth_method": "none"}
    if c is not None:
        return c.post("/.oidc/reg", json=meta)
    assert srv is not None
    return httpx.post(srv.base + ".oidc/reg", json=meta, timeout=30)


def test_registrations_are_limited_per_address(tmp_path: Path) -> None:
    srv = new_server(tmp_path).start()
    try:
        made = [registration(srv=srv) for _ in range(REGISTRATIONS)]
        assert {r.status_code for r in made} == {201}
        refused = registration(srv=srv)
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert refused.json()["error"] == "temporarily_unavailable"
        assert refused.json()["error_description"] and "client_id" not in refused.json()
        assert refused.headers["cache-control"] == "no-store"
        # the clients made before still work: only new registrations wait
        client_id = made[0].json()["client_id"]
        assert httpx.get(srv.base + auth_query(client_id, pkce()[1])[1:]).status_code == 303
    finally:
        srv.stop()


def test_behind_a_proxy_each_address_has_its_own_registrations(tmp_path: Path) -> None:
    srv = configured_server(tmp_path, 'trusted_proxies = ["127.0.0.1"]').start()
    try:
        with from_address(srv, "203.0.113.7") as busy, from_address(srv, "192.0.2.1") as other:
            for _ in range(REGISTRATIONS):
                assert registration(busy).status_code == 201
            assert registration(busy).status_code == 429
            busy.headers["X-Forwarded-For"] = "192.0.2.99, 203.0.113.7"  # not believed
            assert registration(busy).status_code == 429
            assert registration(other).status_code == 201
    finally:
        srv.stop()


def test_clients_never_used_expire_and_used_ones_stay(tmp_path: Path) -> None:
    srv = new_server(tmp_path).start()
    try:
        with browser(srv) as c:
            assert signup(c, "una").status_code == 303
        unused, used = register(srv)["client_id"], register(srv)["client_id"]
        verifier, challenge = pkce()
        with browser(srv) as c:
            code = code_for(c, srv, used, challenge, "una")
        got = token(srv, DPoPKey(), grant_type="authorization_code", code=code,
                    redirect_uri=REDIRECT, client_id=used, code_verifier=verifier)
        assert got.status_code == 200, got.text

        def authorize(client_id: str) -> int:
            return httpx.get(srv.base + auth_query(client_id, challenge)[1:]).status_code

        assert authorize(unused) == authorize(used) == 303  # both known: on to sign-in

        async def a_day_later() -> None:  # the operator's view, with the clock moved on
            rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
            try:
                clients = Clients(rt.system, Fetcher())
                clients._clock = lambda: time.time() + 25 * 3600
                assert await clients.find(unused) is None  # refused from the deadline on
                assert await clients.find(used) is not None
                await clients.save(ClientInfo("app_later", (REDIRECT,)), {})  # a registration
                assert await rt.system.get(RECORD + unused) is None  # ... deleted the unused
                assert await rt.system.get(RECORD + used) is not None
            finally:
                await rt.close()

        asyncio.run(a_day_later())
        assert authorize(unused) == 400  # unknown now
        assert authorize(used) == 303
    finally:
        srv.stop()


# --- §5.1: access-log flooding --------------------------------------------------------------

KEPT_REFUSALS = 20  # refusals kept one by one per agent (and app) per pod per day (docs/api.md)


def test_one_agent_cannot_flood_the_log_and_apps_stay_first_class(live: Server) -> None:
    vic = member(live, "vic", contributions=1)
    knocker = DPoPClient(live.base, live.create_account("wil"))
    client_id = register(live, access_needs=[NEEDS[0]])["client_id"]
    app = sign_in_with_app(live, vic, client_id)
    app_done = [app.request("GET", vic.pod + path).status_code
                for path in ["contributions/c1"] * 2 + ["settings/prefs.ttl"] * 30]
    assert app_done == [200] * 2 + [403] * 30  # the app oversteps its grant 30 times

    def knock(times: int) -> None:
        for n in range(times):
            url = f"{vic.pod}private/{'long-name-' * 20}{n}"
            assert knocker.request("GET", url).status_code == 403

    def records(**params: str) -> list[dict]:
        got = log_api(live, vic.own, limit="10000", **params)
        assert got.status_code == 200, got.text
        return got.json()["records"]

    knock(120)
    mine = [r for r in records() if r["agent"] == knocker.who["webid"]]
    single = [r for r in mine if "aggregate" not in r]
    assert len(single) == KEPT_REFUSALS and not any(r["allowed"] for r in mine)
    [aggregate] = [r for r in mine if "aggregate" in r]  # the owner still learns of it
    assert aggregate["aggregate"]["requests"] == 120 - KEPT_REFUSALS
    assert aggregate["aggregate"]["first"] <= aggregate["aggregate"]["last"] == aggregate["at"]
    targets = aggregate["aggregate"]["targets"]
    assert 1 <= len(targets) <= 5 and all("/private/" in t for t in targets)
    knock(100)  # knocking on adds nothing but a count
    again = [r for r in records() if r["agent"] == knocker.who["webid"]]
    assert len(again) == KEPT_REFUSALS + 1
    assert next(r for r in again if "aggregate" in r)["aggregate"]["requests"] == 200
    # every request of the app acting for the owner is there, one by one
    by_app = records(kind="app")
    assert len(by_app) == 32 and all(r["app"] == client_id for r in by_app)
    assert sum(1 for r in by_app if r["status"] == 403) == 30
    assert all(r["app"] is None for r in records(kind="other"))
    assert log_api(live, vic.own, kind="robots").status_code == 400
    turtle = vic.own.request("GET", f"{live.base}.api/log", params={"pod": "vic"},
                             headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200, turtle.text
    store = ox.Store()
    store.load(turtle.content, format=ox.RdfFormat.TURTLE)
    counts = [int(row["n"].value) for row in store.query(
        f"SELECT ?n WHERE {{ ?a a <{AS}Activity>, <{AS}Collection> ; <{AS}totalItems> ?n ; "
        f"<{AS}actor> <{knocker.who['webid']}> }}")]
    assert counts == [200]
    with browser(live) as c:  # the page: apps first, the knocking on one line, the rule
        assert login(c, "vic", MEMBER_PASSWORD).status_code == 303
        page = c.get("/.account/log").text
        assert page.index('id="log-app"') < page.index('id="log-other"')
        assert "200 more" in page and "counted together" in page
        assert f"first {KEPT_REFUSALS} refused" in page
        only_apps = c.get("/.account/log", params={"kind": "app"}).text
        assert "settings/prefs.ttl" in only_apps and "/private/" not in only_apps

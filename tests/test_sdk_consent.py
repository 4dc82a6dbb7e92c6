"""Consent through the SDK against a live server: access needs checked exactly as the server
checks them, a Client ID Document published in the community's pod, the authorization-code
flow (PKCE, state, nonce, ID token) with the member consenting in a browser, refresh-token
rotation, what the app was granted, the app acting as itself, and a verified revocation
event."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from apps.sdk import (
    ClientIdDocument,
    CodeFlow,
    Contribution,
    EventError,
    Forbidden,
    LoginError,
    NeedError,
    OAuthError,
    PodClient,
    Session,
    access_need,
    client_credentials,
    publish_client_document,
    register_client,
    verify_grant_event,
)
from tests.conftest import Server, new_server
from tests.forms import form_fields
from tests.test_accounts import browser, login

T = TypeVar("T")
PASSWORD = "a long enough password"  # what Server.create_account gives every account
REDIRECT = "http://127.0.0.1:9/callback"
CP = "https://commonpod.org/ns#"


def run(work: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(work())


class Hooks:
    """A loopback webhook receiver: records every POST body."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("content-length", "0"))
                hooks.bodies.append(self.rfile.read(size))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/grants"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    found = Hooks()
    yield found
    found.httpd.shutdown()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("sdk-consent"))  # may POST to loopback hooks
    server.start()
    yield server
    server.stop()


async def login_as(who: dict[str, str]) -> Session:
    return await client_credentials(who["issuer"], who["client_id"], who["client_secret"])


NEEDS = dict(
    contributions=dict(cls="cp:Contribution", modes=["read"], purpose="dpv:ServiceProvision",
                       description="Show your contributions on the community board.",
                       duration="P90D"),
    rewards=dict(cls="cp:RewardStatement", modes=["append"],
                 purpose="https://w3id.org/dpv#ServiceProvision",
                 description="Give you the badges the community awards you.",
                 duration="P30D"))


@pytest.fixture(scope="module")
def board(srv: Server, hooks: Hooks) -> dict[str, Any]:
    """The community's account and its app's Client ID Document, published with the SDK."""
    river = srv.create_account("riverside")
    document = ClientIdDocument(
        client_id=river["pod"] + "board.json", client_name="Riverside board",
        redirect_uris=[REDIRECT],
        needs=[access_need(id=name, **need) for name, need in NEEDS.items()],
        agent_webid=river["webid"], grant_webhook=hooks.url)

    async def publish() -> None:
        async with PodClient(await login_as(river)) as pod:
            await publish_client_document(pod, document)

    run(publish)
    return {"account": river, "client_id": document.client_id}


@pytest.fixture(scope="module")
def ivy(srv: Server) -> dict[str, str]:
    who = srv.create_account("ivy")

    async def record() -> None:
        async with PodClient(await login_as(who)) as pod:
            for n in (1, 2):
                await pod.put(who["pod"] + f"contributions/c{n}", Contribution(
                    provider=who["webid"], name=f"Contribution {n}",
                    in_scope_of=("https://riverside.example/#community",),
                    kinds=("cp:CareWork",), when=time_of(n)))

    run(record)
    return who


def time_of(n: int) -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 5, n, 10, tzinfo=UTC)


def consent(srv: Server, name: str, authorization_url: str, *, decision: str = "allow",
            untick: tuple[str, ...] = ()) -> str:
    """The member, in a browser: signs in, sees the consent page, decides. Returns the URL
    the browser is sent back to."""
    assert authorization_url.startswith(srv.base)
    path = "/" + authorization_url[len(srv.base):]
    with browser(srv) as c:
        page = c.get(path)
        if page.status_code == 303:
            assert login(c, name, PASSWORD, return_to=path).status_code == 303
            page = c.get(path)
        assert page.status_code == 200, page.text
        fields = form_fields(page.text, "/.oidc/auth")
        for need in untick:
            fields.pop(f"need-{need}")
        done = c.post("/.oidc/auth", data={**fields, "decision": decision})
        assert done.status_code == 303, done.text
        return done.headers["location"]


@pytest.fixture(scope="module")
def signed_in(srv: Server, board: dict[str, Any], ivy: dict[str, str]) -> dict[str, Any]:
    """Ivy signs in through the board, allowing her contributions but not the rewards."""
    flow = run(lambda: CodeFlow.start(srv.base, board["client_id"], REDIRECT))
    callback = consent(srv, "ivy", flow.url, untick=("rewards",))
    session = run(lambda: flow.finish(callback))
    return {"flow": flow, "session": session}


# --- access needs: the server's own checks -------------------------------------------------

BAD_NEEDS = [
    {"class": "https://example.org/Secrets"},
    {"modes": ["control"]},
    {"purpose": "dpv:SellingData"},
    {"duration": "P5Y"},
    {"duration": "90 days"},
    {"description": "short"},
    {"id": "two words"},
]


@pytest.mark.parametrize("change", BAD_NEEDS, ids=lambda c: next(iter(c)))
def test_a_need_the_server_would_refuse_is_refused_in_the_same_words(
        srv: Server, change: dict[str, Any]) -> None:
    need = {"id": "contributions", **NEEDS["contributions"]}
    need.update({("cls" if k == "class" else k): v for k, v in change.items()})
    with pytest.raises(NeedError) as local:
        access_need(**need)
    metadata = {"client_name": "Checked", "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
                "scope": "openid webid", "access_needs": [
                    {("class" if k == "cls" else k): v for k, v in need.items()}]}
    with pytest.raises(OAuthError) as remote:
        run(lambda: register_client(srv.base, metadata))
    assert remote.value.error == "invalid_client_metadata"
    assert remote.value.description == str(local.value)


def test_a_client_id_document_claiming_another_webid_is_refused_before_publishing() -> None:
    document = ClientIdDocument(client_id="https://pods.example/riverside/board.json",
                                client_name="Board", redirect_uris=[REDIRECT],
                                agent_webid="https://pods.example/amara/profile/card#me")
    with pytest.raises(NeedError, match="same origin and pod as the Client ID Document"):
        document.to_json()


def test_a_published_client_id_document_is_public_and_as_written(srv: Server,
                                                                 board: dict[str, Any]) -> None:
    async def read() -> Any:
        async with PodClient() as anonymous:
            return (await anonymous.get(board["client_id"], accept="application/ld+json")).json()

    doc = run(read)
    assert doc["client_id"] == board["client_id"]
    assert [n["id"] for n in doc["access_needs"]] == ["contributions", "rewards"]
    assert doc["access_needs"][0]["class"] == CP + "Contribution"


# --- the authorization-code flow -----------------------------------------------------------

def test_the_code_flow_signs_the_member_in_for_the_app(signed_in: dict[str, Any],
                                                       ivy: dict[str, str],
                                                       board: dict[str, Any]) -> None:
    flow, session = signed_in["flow"], signed_in["session"]
    query = parse_qs(urlsplit(flow.url).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [flow.state]
    assert query["nonce"] == [flow.nonce] and query["client_id"] == [board["client_id"]]
    assert session.webid == ivy["webid"] and session.client_id == board["client_id"]
    assert session.refresh_token and session.id_token

    async def use() -> tuple[Any, Exception | None, Any]:
        async with PodClient(session) as app:
            mine = await app.collect(ivy["pod"], Contribution)
            refused = None
            try:
                await app.get(ivy["pod"] + "settings/prefs.ttl")
            except Forbidden as exc:
                refused = exc
            return mine, refused, await app.grants(ivy["pod"])

    mine, refused, grants = run(use)
    assert sorted(c.name for c in mine.records) == ["Contribution 1", "Contribution 2"]
    assert refused is not None and board["client_id"] in refused.detail
    [grant] = grants
    assert grant.grant.startswith(ivy["pod"] + "grants/")
    assert grant.allows("read", CP + "Contribution")
    assert not grant.allows("append", CP + "RewardStatement")  # unticked
    [permission] = grant.permissions
    assert permission.purpose == "https://w3id.org/dpv#ServiceProvision"
    assert permission.until is not None and permission.until.timestamp() > time.time()


def test_a_flow_survives_being_saved_and_restored(srv: Server, board: dict[str, Any],
                                                  ivy: dict[str, str]) -> None:
    flow = run(lambda: CodeFlow.start(srv.base, board["client_id"], REDIRECT))
    saved = dataclasses.asdict(flow)  # e.g. in the app's session store
    callback = consent(srv, "ivy", flow.url, untick=("rewards",))
    session = run(lambda: CodeFlow(**saved).finish(callback))
    assert session.webid == ivy["webid"]


def test_refresh_tokens_rotate(signed_in: dict[str, Any], ivy: dict[str, str]) -> None:
    session: Session = signed_in["session"]
    old_refresh, old_access = session.refresh_token, session.access_token
    stale = dataclasses.replace(session, refresh_token=old_refresh, _lock=None)

    async def work() -> tuple[int, Exception | None]:
        await session.renew()
        async with PodClient(session) as app:
            status = (await app.get(ivy["pod"] + "contributions/c1")).status
        refused = None
        try:
            await stale.renew()  # the old refresh token was used: refused
        except OAuthError as exc:
            refused = exc
        return status, refused

    status, refused = run(work)
    assert session.refresh_token != old_refresh and session.access_token != old_access
    assert status == 200
    assert refused is not None and refused.error == "invalid_grant"


def test_a_callback_that_is_not_this_flows_is_refused(srv: Server,
                                                      board: dict[str, Any]) -> None:
    flow = run(lambda: CodeFlow.start(srv.base, board["client_id"], REDIRECT))
    forged = REDIRECT + "?" + urlencode({"code": "stolen", "state": "not-mine",
                                         "iss": srv.base})
    with pytest.raises(LoginError, match="state"):
        run(lambda: flow.finish(forged))
    other = REDIRECT + "?" + urlencode({"code": "x", "state": flow.state,
                                        "iss": "https://elsewhere.example/"})
    with pytest.raises(LoginError, match="RFC 9207"):
        run(lambda: flow.finish(other))
    elsewhere = REDIRECT + "-evil?" + urlencode({"code": "x", "state": flow.state})
    with pytest.raises(LoginError, match="redirect URI"):
        run(lambda: flow.finish(elsewhere))


def test_a_member_who_denies_is_a_login_error(srv: Server, board: dict[str, Any],
                                              ivy: dict[str, str]) -> None:
    flow = run(lambda: CodeFlow.start(srv.base, board["client_id"], REDIRECT))
    callback = consent(srv, "ivy", flow.url, decision="deny")
    with pytest.raises(LoginError, match="access_denied"):
        run(lambda: flow.finish(callback))


# --- the app as itself, and revocation ------------------------------------------------------

def test_the_app_acting_as_itself_reads_what_was_granted_to_its_webid(
        signed_in: dict[str, Any], board: dict[str, Any], ivy: dict[str, str]) -> None:
    async def work() -> tuple[Any, Any]:
        async with PodClient(await login_as(board["account"])) as itself:
            return (await itself.collect(ivy["pod"], Contribution),
                    await itself.grants(ivy["pod"]))

    mine, grants = run(work)
    assert len(mine.records) == 2 and len(grants) == 1


def test_a_revocation_event_verifies_and_access_ends(srv: Server, signed_in: dict[str, Any],
                                                     board: dict[str, Any], ivy: dict[str, str],
                                                     hooks: Hooks) -> None:
    session: Session = signed_in["session"]

    async def revoke() -> str:
        async with PodClient(session) as app:
            [grant] = await app.grants(ivy["pod"])
        async with PodClient(await login_as(ivy)) as owner:
            r = await owner.request("POST", srv.base + ".api/grants/revoke",
                                    params={"pod": "ivy"},
                                    headers={"Content-Type": "application/json"},
                                    content=f'{{"grant": "{grant.grant}"}}'.encode())
            assert r.status_code == 200, r.text
        return grant.grant

    grant = run(revoke)
    deadline = time.monotonic() + 20
    while not hooks.bodies and time.monotonic() < deadline:
        time.sleep(0.05)
    [body] = hooks.bodies
    event = run(lambda: verify_grant_event(body, client_id=board["client_id"],
                                           trusted_issuers={srv.base}))
    assert event.grant == grant and event.owner == ivy["webid"] and event.reason is None
    assert event.issuer == srv.base and event.jti

    head, payload, signature = body.decode().split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA".encode()
    with pytest.raises(EventError, match="not a valid grant event"):
        run(lambda: verify_grant_event(forged, client_id=board["client_id"],
                                       trusted_issuers={srv.base}))
    with pytest.raises(EventError, match="aud"):
        run(lambda: verify_grant_event(body, client_id="https://other.example/app.json",
                                       trusted_issuers={srv.base}))
    with pytest.raises(EventError, match="do not trust"):
        run(lambda: verify_grant_event(body, client_id=board["client_id"],
                                       trusted_issuers={"https://pods.example/"}))

    async def after() -> tuple[Any, Exception | None]:
        async with PodClient(session) as app:
            grants = await app.grants(ivy["pod"])
            try:
                await app.collect(ivy["pod"], Contribution)
            except Forbidden as exc:
                return grants, exc
        return grants, None

    grants, refused = run(after)
    assert grants == [] and refused is not None

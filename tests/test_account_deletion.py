"""Deleting an account ends it everywhere (issue #10 §2): the page and the command line shred
the pod first, then every record the server keeps for the account; its sessions, credentials,
access and refresh tokens stop working at their next use — also in a server that was running
while the command line deleted it — its apps are told, and the name is free again. Deleted and
unknown pods answer 404 to every method, and ``pod delete`` leaves accounts' pods alone."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from auth.accounts import record_name
from auth.consent import WEBHOOK_RECORD
from auth.oidc.grants import REFRESH_RECORD, digest
from auth.oidc.records import ACCOUNT_INDEX
from pod.runtime import open_runtime
from pod.settings import load as load_settings
from pod.statements.keys import record_name as statement_key_record
from tests.conftest import Server, cli, new_server
from tests.dpop import DPoPClient, DPoPKey, dpop_headers
from tests.forms import form_fields
from tests.test_accounts import browser, login, signup
from tests.test_oidc_code_flow import REDIRECT, auth_query, pkce, token
from tests.test_vc_sign import unsigned

PASSWORD = "a long enough password"  # what Server.create_account signs up with
TTL = {"Content-Type": "text/turtle"}
METHODS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")


@dataclass
class Hooks:
    """A loopback web site recording the webhook POSTs apps receive."""

    base: str = ""
    posts: list[tuple[str, bytes]] = field(default_factory=list)

    def wait_for(self, path: str, timeout: float = 15.0) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [body for p, body in self.posts if p == path]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no webhook arrived at {path}")


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    found = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("content-length", "0"))
            found.posts.append((self.path, self.rfile.read(size)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield found
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("deletion"))
    server.start()
    yield server
    server.stop()


@dataclass
class Person:
    """An account made on the command line, with its own client credential and token."""

    name: str
    webid: str
    pod: str
    made: dict[str, str]
    own: DPoPClient


def person(srv: Server, prefix: str) -> Person:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    made = srv.create_account(name)
    return Person(name, made["webid"], made["pod"], made, DPoPClient(srv.base, made))


def shared_with(owner: Person, webid: str) -> str:
    """A document in ``owner``'s pod that ``webid`` may read (an ACL naming it)."""
    doc = owner.pod + f"shared-{uuid.uuid4().hex[:6]}.ttl"
    assert owner.own.request("PUT", doc, content=b'<#it> <urn:x:p> "for a friend" .',
                             headers=TTL).status_code == 201
    acl = (f"@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
           f"<#owner> a acl:Authorization; acl:agent <{owner.webid}>; acl:accessTo <{doc}>;"
           f" acl:mode acl:Read, acl:Write, acl:Control.\n"
           f"<#friend> a acl:Authorization; acl:agent <{webid}>; acl:accessTo <{doc}>;"
           f" acl:mode acl:Read.\n")
    assert owner.own.request("PUT", doc + ".acl", content=acl.encode(),
                             headers=TTL).status_code == 201
    return doc


@dataclass
class AppAccess:
    """What an app holds after the owner signed in through it: tokens and the grant."""

    client_id: str
    key: DPoPKey
    access_token: str
    refresh_token: str
    hook: str

    def request(self, method: str, url: str) -> httpx.Response:
        return httpx.request(method, url, timeout=20,
                             headers=dpop_headers(self.key, self.access_token, method, url))


def app_signed_in(srv: Server, hooks: Hooks, who: Person) -> AppAccess:
    """Register an app with a grant webhook; the owner consents in the browser; the app
    exchanges the code for tokens (with a refresh token)."""
    hook = f"/hooks/{uuid.uuid4().hex[:8]}"
    reg = httpx.post(srv.base + ".oidc/reg", json={
        "redirect_uris": [REDIRECT], "client_name": "Deletion test app",
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none", "scope": "openid webid offline_access",
        "grant_webhook": hooks.base + hook})
    assert reg.status_code == 201, reg.text
    client_id = reg.json()["client_id"]
    verifier, challenge = pkce()
    query = auth_query(client_id, challenge)
    with browser(srv) as c:
        assert login(c, who.name, PASSWORD, return_to=query).status_code == 303
        page = c.get(query)
        assert page.status_code == 200, page.text
        r = c.post("/.oidc/auth", data={**form_fields(page.text, "/.oidc/auth"),
                                        "decision": "allow"})
        assert r.status_code == 303, r.text
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    key = DPoPKey()
    got = token(srv, key, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                client_id=client_id, code_verifier=verifier)
    assert got.status_code == 200, got.text
    body = got.json()
    return AppAccess(client_id, key, body["access_token"], body["refresh_token"], hook)


def refreshed(srv: Server, app: AppAccess) -> httpx.Response:
    return token(srv, app.key, grant_type="refresh_token", refresh_token=app.refresh_token,
                 client_id=app.client_id)


def credentials_token(srv: Server, who: Person) -> httpx.Response:
    url = srv.base + ".oidc/token"
    key = DPoPKey()
    return httpx.post(url, data={"grant_type": "client_credentials", "scope": "webid"},
                      auth=(who.made["client_id"], who.made["client_secret"]),
                      headers={"DPoP": key.proof("POST", url)})


def sign_a_statement(srv: Server, who: Person, tmp_path: Path) -> None:
    """Make the pod's statement signing key (a server record) by signing a credential."""
    path = tmp_path / f"{who.name}.json"
    path.write_text(json.dumps(unsigned(who.webid)), encoding="utf-8")
    cli("vc", "sign", str(path), "--pod", who.name, data_dir=srv.data_dir)


def delete_form(c: httpx.Client) -> dict[str, str]:
    page = c.get("/.account/delete")
    assert page.status_code == 200, page.text
    fields = form_fields(page.text, "/.account/delete")
    assert set(fields) == {"csrf", "password", "confirm"}
    return fields


def webhook_claims(srv: Server, body: bytes) -> dict[str, Any]:
    jwks = KeySet.import_key_set(httpx.get(srv.base + ".oidc/jwks").json())
    event = jwt.decode(body.decode(), jwks, algorithms=["ES256"])
    assert event.header["typ"] == "grant-event+jwt"
    return dict(event.claims)


def records_left(srv: Server, names: list[str]) -> list[str]:
    """Which of the server records ``names`` exist, read as the operator can (with the master
    key, while the server runs), plus ``pod`` if a pod of the account's name does."""

    async def look() -> list[str]:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            async with rt.system.read() as reader:
                return [n for n in names if await reader.exists(n)]
        finally:
            await rt.close()

    return asyncio.run(look())


def pod_exists(srv: Server, name: str) -> bool:
    async def look() -> bool:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            return await rt.pods.find(name) is not None
        finally:
            await rt.close()

    return asyncio.run(look())


def assert_gone(srv: Server, who: Person, *old: tuple[DPoPClient | AppAccess, str]) -> None:
    """The pod answers 404 to every method, and old tokens are refused elsewhere."""
    for method in METHODS:
        for url in (who.pod, who.pod + "profile/card", who.pod + "notes/n.ttl"):
            r = httpx.request(method, url, content=b"<#a> <urn:x:b> <#c>.",
                              headers={"Content-Type": "text/turtle"}, timeout=20)
            assert r.status_code == 404, (method, url, r.status_code)
    assert who.own.request("GET", who.pod).status_code == 404
    for client, url in old:
        r = client.request("GET", url)
        assert r.status_code == 401, (url, r.status_code, r.text)
        assert "no longer exists" in r.json()["detail"]


def test_the_page_refuses_a_missing_csrf_a_wrong_name_or_password(srv: Server) -> None:
    who = person(srv, "keep")
    with browser(srv) as c:
        assert c.get("/.account/delete").status_code == 303  # visitors go to the login page
        assert login(c, who.name, PASSWORD).status_code == 303
        assert 'href="/.account/delete"' in c.get("/.account/").text
        fields = delete_form(c)
        no_csrf = {**fields, "password": PASSWORD, "confirm": who.name}
        del no_csrf["csrf"]
        assert c.post("/.account/delete", data=no_csrf).status_code == 403
        wrong_password = c.post("/.account/delete", data={
            **fields, "password": PASSWORD + "x", "confirm": who.name})
        assert wrong_password.status_code == 400
        assert "password is wrong" in wrong_password.text
        for typed in ("", who.name.upper(), who.name + "x", "someone-else"):
            wrong_name = c.post("/.account/delete", data={
                **fields, "password": PASSWORD, "confirm": typed})
            assert wrong_name.status_code == 400 and "exactly" in wrong_name.text
        assert c.get("/.account/").status_code == 200  # still signed in
    with httpx.Client(base_url=srv.base) as stranger:  # the form without a session
        r = stranger.post("/.account/delete", data={**fields, "password": PASSWORD,
                                                    "confirm": who.name})
        assert r.status_code == 303 and r.headers["location"].startswith("/.account/login")
    # nothing was deleted
    assert who.own.request("GET", who.pod).status_code == 200
    assert credentials_token(srv, who).status_code == 200
    with browser(srv) as c:
        assert login(c, who.name, PASSWORD).status_code == 303


def test_deleting_on_the_page_ends_the_account_everywhere(srv: Server, hooks: Hooks,
                                                         tmp_path: Path) -> None:
    who, friend = person(srv, "leaving"), person(srv, "friend")
    marker = f"Marmalade otter diary {uuid.uuid4().hex[:8]}"
    assert who.own.request("PUT", who.pod + "notes/n.ttl", headers=TTL,
                           content=f'<#it> <urn:x:says> "{marker}" .'.encode()).status_code == 201
    shared = shared_with(friend, who.webid)
    assert who.own.request("GET", shared).status_code == 200
    app = app_signed_in(srv, hooks, who)
    assert app.request("GET", who.pod + "notes/n.ttl").status_code == 200
    assert app.request("GET", shared).status_code == 200
    sign_a_statement(srv, who, tmp_path)
    [grant] = httpx.get(f"{srv.base}.api/grants?pod={who.name}", headers=dpop_headers(
        who.own.key, who.own.token, "GET", f"{srv.base}.api/grants?pod={who.name}"),
    ).json()["grants"]
    names = [record_name(who.name), f"sessions:{who.name}", f"credentials:{who.name}",
             f"credential:{who.made['client_id']}", ACCOUNT_INDEX + who.name,
             REFRESH_RECORD + digest(app.refresh_token), WEBHOOK_RECORD + grant["grant"],
             statement_key_record(who.name)]

    with browser(srv) as c:
        assert login(c, who.name, PASSWORD).status_code == 303
        assert records_left(srv, names) == names  # each record to delete exists
        done = c.post("/.account/delete", data={**delete_form(c), "password": PASSWORD,
                                                "confirm": who.name})
        assert done.status_code == 303 and done.headers["location"] == "/.account/deleted"
        assert 'cp_session=""' in done.headers["set-cookie"]
        assert "is deleted" in c.get("/.account/deleted").text
        assert c.get("/.account/").status_code == 303  # signed out

    assert records_left(srv, names) == [] and not pod_exists(srv, who.name)
    with browser(srv) as c:
        assert login(c, who.name, PASSWORD).status_code == 400
    refused = credentials_token(srv, who)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    again = refreshed(srv, app)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert_gone(srv, who, (who.own, shared), (app, shared))

    claims = webhook_claims(srv, hooks.wait_for(app.hook))
    assert claims["event"] == "grant.revoked" and claims["reason"] == "account.deleted"
    assert claims["aud"] == app.client_id and claims["owner"] == who.webid
    assert claims["grant"] == grant["grant"] and claims["iss"] == srv.base

    blob = b"".join(p.read_bytes() for p in srv.data_dir.iterdir()
                    if p.name.startswith("commonpod.db"))
    for secret in (marker, who.name, who.made["client_secret"], app.refresh_token):
        assert secret.encode() not in blob

    # the name is free: a new account gets a fresh, empty pod the old tokens cannot reach
    with browser(srv) as c:
        assert signup(c, who.name, PASSWORD).status_code == 303
        assert c.get("/.account/").status_code == 200
    assert httpx.get(who.pod + "profile/card").status_code == 200
    for client in (who.own, app):
        r = client.request("GET", who.pod + "profile/card")
        assert r.status_code == 401 and "no longer exists" in r.json()["detail"]
    newcomer = json.loads(cli("credentials", "create", who.name, data_dir=srv.data_dir).stdout)
    mine = DPoPClient(srv.base, {**newcomer})
    assert mine.request("GET", who.pod).status_code == 200
    assert mine.request("GET", who.pod + "notes/n.ttl").status_code == 404
    assert refreshed(srv, app).status_code == 400


def test_deleting_on_the_command_line_while_the_server_runs(srv: Server, hooks: Hooks
                                                            ) -> None:
    who, friend = person(srv, "cli-gone"), person(srv, "friend")
    assert who.own.request("PUT", who.pod + "notes/n.ttl", headers=TTL,
                           content=b'<#it> <urn:x:p> "soon gone" .').status_code == 201
    shared = shared_with(friend, who.webid)
    app = app_signed_in(srv, hooks, who)
    for client in (who.own, app):  # warm the running server's caches
        assert client.request("GET", who.pod + "notes/n.ttl").status_code == 200
        assert client.request("GET", shared).status_code == 200
    with browser(srv) as c:
        assert login(c, who.name, PASSWORD).status_code == 303
        done = json.loads(cli("account", "delete", who.name, data_dir=srv.data_dir).stdout)
        assert done["deleted"] == who.name and done["webid"] == who.webid
        assert done["apps_told"] == 1 and done["apps_not_reached"] == []
        assert c.get("/.account/").status_code == 303  # the session ended with the account
    assert_gone(srv, who, (who.own, shared), (app, shared))
    assert credentials_token(srv, who).status_code == 401
    assert refreshed(srv, app).json()["error"] == "invalid_grant"
    claims = webhook_claims(srv, hooks.wait_for(app.hook))
    assert claims["reason"] == "account.deleted" and claims["owner"] == who.webid
    with browser(srv) as c:
        assert login(c, who.name, PASSWORD).status_code == 400

    made = json.loads(cli("account", "create", who.name, "--password-file", "-",
                          data_dir=srv.data_dir, input=PASSWORD + "\n").stdout)
    assert made["webid"] == who.webid  # the same name, the same WebID: a new account
    for client in (who.own, app):
        assert client.request("GET", who.pod + "profile/card").status_code == 401
    gone = cli("account", "delete", who.name + "-nobody", data_dir=srv.data_dir, check=False)
    assert gone.returncode == 1 and "no account named" in gone.stderr


def test_pod_delete_refuses_an_accounts_pod(srv: Server) -> None:
    who = person(srv, "podded")
    done = cli("pod", "delete", who.name, data_dir=srv.data_dir, check=False)
    assert done.returncode == 1
    assert f"commonpod account delete {who.name}" in done.stderr
    assert who.own.request("GET", who.pod).status_code == 200
    assert credentials_token(srv, who).status_code == 200


def test_account_delete_leaves_a_pod_without_an_account_alone(srv: Server) -> None:
    name = f"plain-{uuid.uuid4().hex[:8]}"
    srv.create_pod(name)
    done = cli("account", "delete", name, data_dir=srv.data_dir, check=False)
    assert done.returncode == 1 and f"no account named {name!r}" in done.stderr
    assert httpx.get(f"{srv.base}{name}/profile/card").status_code == 200


def test_deleted_and_unknown_pods_answer_404_to_every_method(srv: Server) -> None:
    name = f"brief-{uuid.uuid4().hex[:8]}"
    srv.create_pod(name, "--public-write")
    doc = f"{srv.base}{name}/doc.ttl"
    assert httpx.put(doc, content=b"<#a> <urn:x:b> <#c>.", headers=TTL).status_code == 201
    assert httpx.options(doc).status_code == 204  # the running server has seen the pod
    cli("pod", "delete", name, data_dir=srv.data_dir)
    for pod in (name, f"never-{uuid.uuid4().hex[:8]}"):
        for path in ("/", "/doc.ttl", "/profile/card", "/a/b/"):
            for method in METHODS:
                r = httpx.request(method, f"{srv.base}{pod}{path}", timeout=20,
                                  content=b"<#a> <urn:x:b> <#c>.", headers=TTL)
                assert r.status_code == 404, (method, pod + path, r.status_code)


def test_an_unfinished_deletion_keeps_the_name_until_it_is_finished(srv: Server) -> None:
    """A pod gone but its account left — what a crash between the pod's shredding and the
    records' deletion leaves, or what `pod delete` used to make of an account: nothing signs
    in as it or takes its name until `account delete` finishes the deletion."""
    who = person(srv, "halfway")
    app_token = who.own  # a token issued before

    async def shred_the_pod_only() -> None:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            assert await rt.pods.destroy(who.name) is not None
        finally:
            await rt.close()

    asyncio.run(shred_the_pod_only())
    assert app_token.request("GET", who.pod).status_code == 404
    refused = credentials_token(srv, who)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    for taken in (("account", "create", who.name, "--password-file", "-"),
                  ("pod", "create", who.name)):
        done = cli(*taken, data_dir=srv.data_dir, input=PASSWORD + "\n", check=False)
        assert done.returncode == 1 and "account delete" in done.stderr, done.stderr
    with browser(srv) as c:
        assert signup(c, who.name, PASSWORD).status_code == 400
    done = json.loads(cli("account", "delete", who.name, data_dir=srv.data_dir).stdout)
    assert done["deleted"] == who.name and done["records"] >= 2  # the account, its credential
    assert credentials_token(srv, who).status_code == 401
    cli("pod", "create", who.name, data_dir=srv.data_dir)  # the name is free again
    assert app_token.request("GET", who.pod + "profile/card").status_code == 401

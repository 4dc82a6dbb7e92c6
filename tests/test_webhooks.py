"""Signed grant-revocation webhooks (auth/webhooks.py) and Fetcher.post (auth/fetch.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from auth.fetch import Fetcher, FetchRefused
from auth.oidc.tokens import SigningKeys
from auth.webhooks import GRANT_REVOKED, WebhookRefused, Webhooks

ISSUER = "https://pod.example/"
CLIENT = "https://app.example/id"
GRANT = "https://pod.example/alice/grants/1"
OWNER = "https://pod.example/alice/profile/card#me"
TINY = (0.01, 0.01)


@dataclass
class Receiver:
    """A local HTTP endpoint that records POSTs and answers from a script (then 200)."""

    base: str
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.posts.append((self.path, dict(self.headers), body))
            status = state.script.pop(0) if state.script else 200
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_port}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    """The provider key made as the server makes it: in the sealed system records."""
    from pod.runtime import open_runtime
    from pod.settings import Settings
    from pod.store import keys as keyfiles

    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("hooks")),
                        base_url=ISSUER).validated()
    keyfiles.write_key_file(settings.master_key_path, keyfiles.new_master_key())

    async def load() -> SigningKeys:
        rt = await open_runtime(settings, create=True)
        try:
            return await SigningKeys.load_or_create(rt.system)
        finally:
            await rt.close()

    return asyncio.run(load())


def _hooks(keys: SigningKeys, *, allow_private: bool = True,
           retries: tuple[float, ...] = TINY) -> Webhooks:
    return Webhooks(keys, ISSUER, Fetcher(allow_private=allow_private, timeout=2.0),
                    retries=retries)


def _deliver(hooks: Webhooks, url: str):
    return asyncio.run(hooks.deliver(url, client_id=CLIENT, grant=GRANT, owner=OWNER,
                                     revoked_at=1_700_000_000.5))


def test_delivered_event_verifies_against_the_jwks(keys, receiver, caplog) -> None:
    hooks = _hooks(keys)
    before = int(time.time())
    with caplog.at_level(logging.INFO, logger="auth.webhooks"):
        done = _deliver(hooks, receiver.base + "/hooks/grants?app=1")
    assert done.delivered and done.status == 200 and done.attempts == 1 and done.error is None
    assert hooks.recent() == [done] and done.event == GRANT_REVOKED and done.client_id == CLIENT
    [(path, headers, body)] = receiver.posts
    assert path == "/hooks/grants?app=1"
    assert {k.lower(): v for k, v in headers.items()}["content-type"] == "application/jwt"

    token = jwt.decode(body, KeySet.import_key_set(keys.jwks()), algorithms=["ES256"])
    assert token.header == {"alg": "ES256", "kid": keys.kid, "typ": "grant-event+jwt"}
    claims = token.claims
    assert set(claims) == {"iss", "aud", "iat", "jti", "event", "grant", "owner", "revoked_at"}
    assert claims["iss"] == ISSUER and claims["aud"] == CLIENT
    assert claims["event"] == "grant.revoked" and claims["grant"] == GRANT
    assert claims["owner"] == OWNER and claims["revoked_at"] == 1_700_000_000
    assert before <= claims["iat"] <= time.time() + 1
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER},
                          aud={"essential": True, "value": CLIENT}).validate(claims)
    # the log names the host and the outcome, never the token
    assert "127.0.0.1" in caplog.text and "delivered" in caplog.text
    assert body.decode() not in caplog.text and body.decode().split(".")[1] not in caplog.text


def test_each_event_has_its_own_jti(keys) -> None:
    hooks = _hooks(keys)
    a, b = (hooks.token(client_id=CLIENT, grant=GRANT, owner=OWNER, revoked_at=1) for _ in "ab")
    ks = KeySet.import_key_set(keys.jwks())
    assert jwt.decode(a, ks).claims["jti"] != jwt.decode(b, ks).claims["jti"]


def test_server_errors_are_retried(keys, receiver) -> None:
    receiver.script[:] = [500, 500]
    done = _deliver(_hooks(keys), receiver.base + "/hook")
    assert done.delivered and done.status == 200 and done.attempts == 3
    bodies = {body for _, _, body in receiver.posts}
    assert len(receiver.posts) == 3 and len(bodies) == 1  # the same event (jti) each time


def test_retries_give_up(keys, receiver) -> None:
    receiver.script[:] = [503, 429, 502]
    done = _deliver(_hooks(keys), receiver.base + "/hook")
    assert not done.delivered and done.status == 502 and done.attempts == 3
    assert done.error == "answered 502"


@pytest.mark.parametrize("status", [400, 404, 302])
def test_client_errors_and_redirects_are_not_retried(keys, receiver, status: int) -> None:
    receiver.script[:] = [status]
    done = _deliver(_hooks(keys), receiver.base + "/hook")
    assert not done.delivered and done.status == status and done.attempts == 1
    assert [path for path, _, _ in receiver.posts] == ["/hook"]  # no redirect followed


def test_network_errors_are_retried(keys, receiver) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _deliver(_hooks(keys), f"http://127.0.0.1:{port}/hook")
    assert not done.delivered and done.status is None and done.attempts == 3
    assert done.error and "cannot post" in done.error


def test_private_address_refused_without_a_request(keys, receiver) -> None:
    port = receiver.base.rsplit(":", 1)[1]
    hooks = _hooks(keys, allow_private=False)
    for url in (f"https://127.0.0.1:{port}/hook", f"https://localhost:{port}/hook"):
        done = _deliver(hooks, url)
        assert not done.delivered and done.attempts == 0 and done.status is None
        assert done.error and "non-public address" in done.error
    with pytest.raises(FetchRefused, match="non-public address"):
        asyncio.run(Fetcher().post(receiver.base + "/hook", b"x", "text/plain"))
    assert receiver.posts == []


@pytest.mark.parametrize("url", ["http://example.org/hook", "http://93.184.215.14/hook",
                                 "ftp://example.org/hook", "https://user:pw@example.org/h",
                                 "https://example.org/h#frag", "/relative"])
@pytest.mark.parametrize("allow_private", [True, False])
def test_non_https_to_a_public_host_is_refused(keys, url: str, allow_private: bool) -> None:
    hooks = _hooks(keys, allow_private=allow_private)
    with pytest.raises(WebhookRefused):
        hooks.check_url(url)
    done = _deliver(hooks, url)
    assert not done.delivered and done.attempts == 0 and done.status is None


def test_plain_http_to_loopback_only_when_private_fetch_is_allowed(keys) -> None:
    assert _hooks(keys).check_url("http://127.0.0.1:9/h") == "http://127.0.0.1:9/h"
    assert _hooks(keys).check_url("http://localhost:9/h")
    with pytest.raises(WebhookRefused):
        _hooks(keys, allow_private=False).check_url("http://127.0.0.1:9/h")
    assert _hooks(keys, allow_private=False).check_url("https://app.example/h")


def test_background_delivery_and_close(keys, receiver) -> None:
    async def run() -> Webhooks:
        hooks = _hooks(keys, retries=(30.0,))
        hooks.grant_revoked(receiver.base + "/ok", client_id=CLIENT, grant=GRANT, owner=OWNER,
                            revoked_at=time.time())
        assert hooks.pending == 1
        for _ in range(200):
            if not hooks.pending:
                break
            await asyncio.sleep(0.01)
        assert hooks.pending == 0 and hooks.recent()[0].delivered
        receiver.script[:] = [503]  # this one waits 30 s to retry: close() cancels it
        hooks.grant_revoked(receiver.base + "/slow", client_id=CLIENT, grant=GRANT,
                            owner=OWNER, revoked_at=time.time())
        for _ in range(200):
            if len(receiver.posts) == 2:
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await hooks.close()
        assert time.monotonic() - started < 5 and hooks.pending == 0
        return hooks

    hooks = asyncio.run(run())
    assert [p for p, _, _ in receiver.posts] == ["/ok", "/slow"]
    assert len(hooks.recent()) == 1  # the cancelled delivery left no record


def test_recent_is_bounded(keys, receiver) -> None:
    from auth import webhooks

    hooks = _hooks(keys)

    async def many() -> None:
        for _ in range(webhooks.RECENT + 5):
            await hooks.deliver("ftp://x/", client_id=CLIENT, grant=GRANT, owner=OWNER,
                                revoked_at=0)

    asyncio.run(many())
    assert len(hooks.recent()) == webhooks.RECENT

"""The fuzz test's client (tests/test_fuzz.py): who calls (anonymous, a signed-in browser, a
visitor with a CSRF cookie, DPoP-authenticated clients, forged tokens), one fuzzed request
sent as its raw request line says, and the checks every answer must pass: no 5xx, no stall,
nothing new in the server log that looks like a failure.
"""

from __future__ import annotations

import base64
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from tests.conftest import Server
from tests.dpop import DPoPClient, DPoPKey
from tests.forms import form_fields
from tests.fuzz_inputs import Form, Live
from tests.test_oidc_code_flow import auth_query, pkce

TIMEOUT = 10.0  # seconds; an answer slower than this is a stall
SIDE_DOOR = "127.0.0.2"  # source address of the harness's own sign-ins (own failure limit)
FAILURE = re.compile(r"Traceback|^ERROR|CRITICAL", re.MULTILINE)


@dataclass(frozen=True)
class Call:
    """One fuzzed request: ``target`` is the raw request-line target (path and query)."""

    method: str
    target: str
    who: str = "anon"
    headers: tuple[tuple[str, str | Live], ...] = ()
    body: bytes | Form = b""

    def __repr__(self) -> str:
        shown = repr(self.body)
        if len(shown) > 600:
            shown = shown[:600] + f"… ({len(shown)} characters)"
        return (f"Call({self.method} {self.target[:300]!r} as {self.who}, "
                f"headers={dict(self.headers)!r}, body={shown})")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))


@dataclass
class Browser:
    """A browser's cookies (session, CSRF nonce) and the CSRF token its pages carry."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    @property
    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


@dataclass(repr=False)
class Cast:
    """Everyone the fuzzer sends requests as, made once per server (its repr shows no
    secret)."""

    server: Server
    owner: dict[str, str]  # name, password, webid, pod, client_id, client_secret
    owner_dpop: DPoPClient
    other_dpop: DPoPClient
    forged: list[tuple[str, DPoPKey]]  # tokens with odd claims, signed with the real key
    app_id: str  # a registered app that declares access needs
    redirect: str
    spare: dict[str, str]  # an account whose session the fuzzer may end or re-password
    other: dict[str, str]  # another account with credentials (not the pod's owner)
    throwaway: str = ""  # a credential of the owner's that the fuzzer may revoke
    grant: str = ""
    session: Browser = field(default_factory=Browser)
    spare_session: Browser | None = None
    visitor: Browser = field(default_factory=Browser)

    def __repr__(self) -> str:
        return f"Cast({self.server.base})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))


def side_door(server: Server) -> httpx.Client:
    """A client for the harness's own sign-ins, from another loopback address, so the
    fuzzer's failed sign-ins (counted per address) never lock the harness out."""
    transport = httpx.HTTPTransport(local_address=SIDE_DOOR)
    return httpx.Client(base_url=server.base, timeout=TIMEOUT, transport=transport)


def sign_in(server: Server, name: str, password: str) -> Browser | None:
    """A signed-in browser (form flow with CSRF), or None when the server refuses."""
    with side_door(server) as c:
        page = c.get("/.account/login")
        fields = {**form_fields(page.text, "/.account/login"), "name": name,
                  "password": password}
        done = c.post("/.account/login", data=fields)
        if done.status_code != 303:
            return None
        home = c.get("/.account/")
        return Browser(dict(c.cookies.items()), form_fields(home.text)["csrf"])


def visit(server: Server) -> Browser:
    """A visitor's browser: the ``cp_csrf`` cookie and the token bound to it."""
    with side_door(server) as c:
        page = c.get("/.account/signup")
        return Browser(dict(c.cookies.items()), form_fields(page.text)["csrf"])


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class Fuzzer:
    """Sends calls and checks the answers; counts statuses per route."""

    def __init__(self, cast: Cast):
        self.cast, self.server = cast, cast.server
        self.http = httpx.Client(base_url=self.server.base, timeout=TIMEOUT)
        self.log_seen = len(self.server.log())
        self.statuses: dict[str, Counter[int]] = {}
        self.verifier = ""
        self.replayed = cast.owner_dpop.key.proof("GET", self.server.base + "fuzz/")

    def close(self) -> None:
        self.http.close()

    # --- identities ----------------------------------------------------------------------

    def _browser(self, who: str) -> Browser | None:
        if who == "session":
            return self.cast.session
        if who == "visitor":
            return self.cast.visitor
        if who == "spare":
            if self.cast.spare_session is None:
                self.cast.spare_session = sign_in(self.server, self.cast.spare["name"],
                                                  self.cast.spare["password"])
            return self.cast.spare_session
        return None

    def _credentials(self, who: str, method: str, url: str) -> dict[str, str]:
        if who in ("owner", "other"):
            dpop = self.cast.owner_dpop if who == "owner" else self.cast.other_dpop
            return {"Authorization": f"DPoP {dpop.token}",
                    "DPoP": dpop.key.proof(method, url, dpop.token)}
        if who.startswith("forged:"):
            token, key = self.cast.forged[int(who[7:]) % len(self.cast.forged)]
            return {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, token)}
        browser = self._browser(who)
        return {"Cookie": browser.header} if browser else {}

    # --- live values ---------------------------------------------------------------------

    def _pending(self) -> str:
        """A fresh pending authorization request of the signed-in owner (its consent form)."""
        page = self.http.get(self._auth_query(), headers={"Cookie": self.cast.session.header})
        return form_fields(page.text, "/.oidc/auth").get("request", "")

    def _auth_query(self) -> str:
        self.verifier, challenge = pkce()
        return auth_query(self.cast.app_id, challenge, self.cast.redirect)

    def _code(self) -> str:
        """A fresh authorization code for the registered app (consent: allow)."""
        cookie = {"Cookie": self.cast.session.header}
        page = self.http.get(self._auth_query(), headers=cookie)
        fields = {**form_fields(page.text, "/.oidc/auth"), "decision": "allow"}
        done = self.http.post("/.oidc/auth", data=fields, headers=cookie)
        query = parse_qs(urlsplit(done.headers.get("location", "")).query)
        return query.get("code", [""])[0]

    def _refresh(self) -> str:
        """A fresh refresh token of the registered app, bound to the owner's DPoP key."""
        code = self._code()
        token_url = self.server.base + ".oidc/token"
        got = self.http.post("/.oidc/token", data={
            "grant_type": "authorization_code", "code": code, "code_verifier": self.verifier,
            "redirect_uri": self.cast.redirect, "client_id": self.cast.app_id},
            headers={"DPoP": self.cast.owner_dpop.key.proof("POST", token_url)})
        return str(got.json().get("refresh_token", "")) if got.status_code == 200 else ""

    def _fill(self, call: Call, url: str) -> dict[str, str]:
        """Values for the call's :class:`Live` placeholders, made now."""
        names = {v.name for _, v in call.headers if isinstance(v, Live)}
        if isinstance(call.body, Form):
            names |= {v.name for _, v in call.body.pairs if isinstance(v, Live)}
        owner, key = self.cast.owner_dpop, self.cast.owner_dpop.key
        browser = self._browser(call.who)
        makers = {
            "csrf": lambda: browser.csrf if browser else "",
            "pending": self._pending,
            "grant": lambda: self.cast.grant,
            "password": lambda: self.cast.spare["password"],
            "token": lambda: owner.token,
            "client_id": lambda: self.cast.owner["client_id"],
            "client_secret": lambda: self.cast.owner["client_secret"],
            "basic": lambda: basic(self.cast.owner["client_id"], self.cast.owner["client_secret"]),
            "proof": lambda: key.proof(call.method, url, owner.token),
            "bare-proof": lambda: key.proof(call.method, url),
            "proof-wrong-method": lambda: key.proof("DELETE", url, owner.token),
            "proof-wrong-url": lambda: key.proof(call.method, url + "x", owner.token),
            "proof-old": lambda: key.proof(call.method, url, owner.token, iat=1),
            "proof-future": lambda: key.proof(call.method, url, owner.token, iat=2**40),
            "proof-other-key": lambda: DPoPKey().proof(call.method, url, owner.token),
            "proof-replayed": lambda: self.replayed,
            "etag": self._etag,
            "refresh": self._refresh,
        }
        filled = {n: makers[n]() for n in sorted(names - {"code", "verifier"}) if n in makers}
        if names & {"code", "verifier"}:
            filled["code"] = self._code()
            filled["verifier"] = self.verifier
        return filled

    def _etag(self) -> str:
        url = self.cast.owner["pod"] + "known/doc.ttl"
        return self.as_owner("HEAD", url).headers.get("etag", '"none"')

    def as_owner(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request of the pod's owner (DPoP), on the fuzzer's kept-alive connection."""
        headers = {**kwargs.pop("headers", {}), **self._credentials("owner", method, url)}
        return self.http.request(method, url, headers=headers, **kwargs)

    # --- sending and checking ------------------------------------------------------------

    def send(self, call: Call) -> httpx.Response:
        """Send ``call`` exactly (its raw target on the request line); a stall fails."""
        url = self.server.base + call.target.split("?", 1)[0][1:]
        fill = self._fill(call, url)
        headers = self._credentials(call.who, call.method, url)
        for name, value in call.headers:
            headers[name] = fill.get(value.name, "") if isinstance(value, Live) else value
        body = call.body.encode(fill) if isinstance(call.body, Form) else call.body
        try:
            return self.http.request(
                call.method, "/", content=body,
                headers={k: v.strip(" \t").encode("latin-1") for k, v in headers.items()},
                extensions={"target": call.target.encode("ascii")})
        except httpx.TimeoutException:
            raise AssertionError(f"no answer within {TIMEOUT} s (a stall): {call!r}") from None

    def check(self, route: str, call: Call) -> httpx.Response:
        """Send ``call`` and check the answer and the log; remember what a browser would."""
        r = self.send(call)
        self.statuses.setdefault(route, Counter())[r.status_code] += 1
        if r.status_code >= 500:
            time.sleep(0.2)  # the traceback may be logged just after the answer
            text = self.server.log()
            new, self.log_seen = text[self.log_seen:], len(text)
            raise AssertionError(f"{r.status_code} for {call!r}:\n{r.text[:1000]}\n{new}")
        self.check_log(call)
        if call.who == "spare":
            self._follow_spare(call, r)
        return r

    def check_log(self, call: Call | None = None) -> None:
        text = self.server.log()
        new, self.log_seen = text[self.log_seen:], len(text)
        assert not FAILURE.search(new), f"the server logged a failure after {call!r}:\n{new}"

    def _follow_spare(self, call: Call, r: httpx.Response) -> None:
        """Keep the spare browser's cookie as a browser would; learn a changed password."""
        spare = self.cast.spare_session
        for header in r.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if name == "cp_session" and spare is not None and value != spare.cookies.get(name):
                self.cast.spare_session = None  # signed out or anew: sign in when needed
        if (call.target.startswith("/.account/password") and call.method == "POST"
                and r.status_code == 303 and isinstance(call.body, Form)):
            sent: dict[str, str | Live] = {}
            for k, v in call.body.pairs:
                sent.setdefault(k, v)  # the server reads the first of a repeated field
            new = sent.get("new")
            if isinstance(new, str):
                self.cast.spare["password"] = new

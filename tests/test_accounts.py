"""Accounts, sign-in and sessions through the browser pages and the CLI, against a live server."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from auth.http.web import ACCOUNT_PAGE, safe_return_to
from auth.ratelimit import BackOff, FailureLimiter, MemoryEvents
from tests.conftest import Server, cli

PASSWORD = "correct horse battery"


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def signup(c: httpx.Client, name: str, password: str = PASSWORD, confirm: str | None = None,
           return_to: str | None = None) -> httpx.Response:
    token = csrf_of(c.get("/.account/signup"))
    form = {"csrf": token, "name": name, "password": password,
            "confirm": password if confirm is None else confirm}
    if return_to is not None:
        form["return_to"] = return_to
    return c.post("/.account/signup", data=form)


def login(c: httpx.Client, name: str, password: str = PASSWORD,
          return_to: str | None = None) -> httpx.Response:
    token = csrf_of(c.get("/.account/login"))
    form = {"csrf": token, "name": name, "password": password}
    if return_to is not None:
        form["return_to"] = return_to
    return c.post("/.account/login", data=form)


def signed_in(c: httpx.Client) -> bool:
    page = c.get("/.account/")
    assert page.status_code in (200, 303)
    return page.status_code == 200


def browser(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=20)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each ``Set-Cookie`` header by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_signup_creates_a_pod_whose_profile_is_public_and_root_private(server: Server) -> None:
    name = unique()
    with browser(server) as c:
        done = signup(c, name)
        assert done.status_code == 303 and done.headers["location"] == "/.account/"
        assert "cp_session" in c.cookies
        page = c.get("/.account/")
        assert page.status_code == 200
        webid, pod = f"{server.base}{name}/profile/card#me", f"{server.base}{name}/"
        assert webid in page.text and pod in page.text and "App credentials" in page.text
    card = httpx.get(webid.split("#")[0])
    assert card.status_code == 200 and "foaf:PersonalProfileDocument" in card.text
    assert httpx.get(pod).status_code == 401


@pytest.mark.parametrize(("name", "password", "confirm", "message"), [
    ("alice", PASSWORD, PASSWORD, "is taken"),
    ("Not A Name!", PASSWORD, PASSWORD, "is invalid"),
    ("account", PASSWORD, PASSWORD, "is reserved"),
    (None, "short", "short", "at least 8 characters"),
    (None, PASSWORD, PASSWORD + "x", "differ"),
])
def test_signup_rejects_bad_input_on_the_form(server: Server, name: str | None, password: str,
                                              confirm: str, message: str) -> None:
    with browser(server) as c:
        done = signup(c, name or unique(), password, confirm)
        assert done.status_code == 400
        assert message in done.text and "<form" in done.text and "Traceback" not in done.text
        assert "cp_session" not in c.cookies


def test_login_and_logout(server: Server) -> None:
    name = unique()
    with browser(server) as first:
        assert signup(first, name).status_code == 303
    with browser(server) as c:
        assert not signed_in(c)
        done = login(c, name)
        assert done.status_code == 303 and done.headers["location"] == "/.account/"
        assert signed_in(c)
        token = c.cookies["cp_session"]
        page = c.get("/.account/")
        out = c.post("/.account/logout", data={"csrf": csrf_of(page)})
        assert out.status_code == 303 and out.headers["location"] == "/.account/login"
        assert "cp_session" not in c.cookies
        assert not signed_in(c)
    with browser(server) as replay:  # the old token is dead on the server, not just forgotten
        replay.cookies.set("cp_session", token)
        assert not signed_in(replay)


def test_account_pages_send_visitors_to_the_login_page(http: httpx.Client) -> None:
    for path in ("/.account/", "/.account/password"):
        done = http.get(path)
        assert done.status_code == 303
        assert done.headers["location"] == "/.account/login?return_to=" + path.replace("/", "%2F")
    form = http.get("/.account/login?return_to=/.account/password")
    assert 'name="return_to" value="/.account/password"' in form.text


def test_wrong_password_shows_an_error_and_starts_no_session(server: Server) -> None:
    name = unique()
    with browser(server) as c:
        assert signup(c, name).status_code == 303
    with browser(server) as c:
        for who, password in ((name, "wrong password"), (unique(), PASSWORD)):
            done = login(c, who, password)
            assert done.status_code == 400
            assert "Wrong name or password" in done.text
            assert "cp_session" not in set_cookies(done) and "cp_session" not in c.cookies
        assert not signed_in(c)


def test_posts_without_a_valid_csrf_token_are_forbidden(server: Server) -> None:
    name = unique()
    with browser(server) as c:
        c.get("/.account/signup")  # the browser holds a cp_csrf cookie
        for form in ({}, {"csrf": "forged"}):
            done = c.post("/.account/signup",
                          data={**form, "name": name, "password": PASSWORD, "confirm": PASSWORD})
            assert done.status_code == 403
            assert "text/html" in done.headers["content-type"] and "reload" in done.text
        with browser(server) as other:  # a token made for another browser does not fit
            stolen = csrf_of(other.get("/.account/signup"))
        done = c.post("/.account/signup", data={"csrf": stolen, "name": name,
                                                "password": PASSWORD, "confirm": PASSWORD})
        assert done.status_code == 403
        assert signup(c, name).status_code == 303  # the name was never taken
        for path, form in (("/.account/logout", {}),
                           ("/.account/password", {"current": PASSWORD, "new": "x" * 12,
                                                   "confirm": "x" * 12})):
            assert c.post(path, data=form).status_code == 403
        assert signed_in(c)
    with browser(server) as c:
        done = c.post("/.account/login", data={"name": name, "password": PASSWORD})
        assert done.status_code == 403 and "cp_session" not in c.cookies


def test_cookie_flags(server: Server) -> None:
    with browser(server) as c:
        form = c.get("/.account/login")
        pre = set_cookies(form)["cp_csrf"].lower()
        assert "httponly" in pre and "samesite=strict" in pre and "secure" not in pre
        done = signup(c, unique())
        cookie = set_cookies(done)["cp_session"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        assert "secure" not in cookie  # the server's base URL is http
        assert len(c.cookies["cp_session"]) == 43  # 32 random bytes, base64url


def test_password_change_ends_every_other_session(server: Server) -> None:
    name, new = unique(), "a much newer password"
    with browser(server) as a, browser(server) as b:
        assert signup(a, name).status_code == 303
        assert login(b, name).status_code == 303 and signed_in(b)
        form = a.get("/.account/password")
        wrong = a.post("/.account/password", data={"csrf": csrf_of(form), "current": "nope",
                                                   "new": new, "confirm": new})
        assert wrong.status_code == 400 and "current password is wrong" in wrong.text
        short = a.post("/.account/password", data={"csrf": csrf_of(form), "current": PASSWORD,
                                                   "new": "short", "confirm": "short"})
        assert short.status_code == 400 and "at least 8" in short.text
        before = a.cookies["cp_session"]
        done = a.post("/.account/password", data={"csrf": csrf_of(form), "current": PASSWORD,
                                                  "new": new, "confirm": new})
        assert done.status_code == 303
        assert a.cookies["cp_session"] != before
        assert signed_in(a) and "password is changed" in a.get(done.headers["location"]).text
        assert not signed_in(b)
    with browser(server) as old:
        old.cookies.set("cp_session", before)
        assert not signed_in(old)
    with browser(server) as c:
        assert login(c, name).status_code == 400
        assert login(c, name, new).status_code == 303


def test_repeated_failures_are_rate_limited(fresh_server: Server) -> None:
    srv = fresh_server
    cli("account", "create", "target", "--password-file", "-", input=PASSWORD,
        data_dir=srv.data_dir)
    srv.start()
    with browser(srv) as c:
        for _ in range(3):  # then the account and address back off (docs/auth.md)
            assert login(c, "target", "wrong guess").status_code == 400
        for password in ("wrong guess", PASSWORD):  # even the right password must wait
            done = login(c, "target", password)
            assert done.status_code == 429
            assert 0 < int(done.headers["retry-after"]) <= 900
            assert "Too many failed sign-ins" in done.text and "<form" in done.text
            assert "cp_session" not in c.cookies
        # one address failing across many names is limited too (20 in 15 minutes)
        for i in range(17):
            assert login(c, f"nobody-{i}", "wrong guess").status_code == 400
        done = login(c, "somebody-else", "wrong guess")
        assert done.status_code == 429 and int(done.headers["retry-after"]) > 0


def test_cli_account_create_then_login(server: Server, tmp_path: Path) -> None:
    from_file, from_stdin = unique("f"), unique("s")
    secret = tmp_path / "password"
    secret.write_text("file password 123\n")
    made = cli("account", "create", from_file, "--password-file", str(secret),
               data_dir=server.data_dir)
    assert json.loads(made.stdout) == {"webid": f"{server.base}{from_file}/profile/card#me",
                                       "pod": f"{server.base}{from_file}/",
                                       "issuer": server.base}
    cli("account", "create", from_stdin, "--password-file", "-", input="stdin password 456\n",
        data_dir=server.data_dir)
    for name, password in ((from_file, "file password 123"), (from_stdin, "stdin password 456")):
        with browser(server) as c:
            assert login(c, name, password).status_code == 303 and signed_in(c)
    assert httpx.get(f"{server.base}{from_file}/").status_code == 401


@pytest.mark.parametrize(("name", "password", "message"), [
    ("alice", PASSWORD, "is taken"),
    ("Bad_Name", PASSWORD, "is invalid"),
    (None, "short", "at least 8 characters"),
])
def test_cli_account_create_fails_clearly(server: Server, name: str | None, password: str,
                                          message: str) -> None:
    done = cli("account", "create", name or unique(), "--password-file", "-", input=password,
               data_dir=server.data_dir, check=False)
    assert done.returncode != 0 and message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_database_holds_no_account_name_password_or_token(fresh_server: Server) -> None:
    srv = fresh_server
    srv.start()
    name, password = "zebraacctq", "ultramarine pangolin 8127"
    with browser(srv) as c:
        assert signup(c, name, password).status_code == 303
        assert login(c, name, password).status_code == 303
        token = c.cookies["cp_session"]
    needles = [name.encode(), password.encode(), b"$argon2id$", b"argon2", token.encode(),
               b"account:", b"session:", b"profile/card"]

    def scan() -> None:
        files = [p for p in srv.data_dir.iterdir() if p.name.startswith("commonpod.db")]
        blob = b"".join(p.read_bytes() for p in files)
        for secret in needles:
            for variant in (secret, secret.decode().encode("utf-16-le")):
                assert variant not in blob, f"{secret!r} found in the database"

    scan()  # the live WAL as it is
    srv.stop(signal.SIGKILL)
    scan()


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)",
    "evil.example", "/ok\r\nSet-Cookie: x=1",
])
def test_an_unsafe_return_to_is_not_followed(server: Server, target: str) -> None:
    name = unique()
    with browser(server) as c:
        form = c.get("/.account/login", params={"return_to": target})
        assert "evil" not in form.text
        assert signup(c, name, return_to=target).headers["location"] == "/.account/"
    with browser(server) as c:
        assert login(c, name, return_to=target).headers["location"] == "/.account/"


def test_a_safe_return_to_is_followed(server: Server) -> None:
    name = unique()
    with browser(server) as c:
        assert signup(c, name).status_code == 303
    with browser(server) as c:
        target = f"/{name}/notes/?view=list"
        form = c.get("/.account/login", params={"return_to": target})
        assert f'name="return_to" value="{target.replace("&", "&amp;")}"' in form.text
        assert login(c, name, return_to=target).headers["location"] == target


@pytest.mark.parametrize(("value", "safe"), [
    ("/alice/", True), ("/.account/password", True), ("/a/b?c=d&e=%2F", True),
    (None, False), ("", False), ("alice/", False), ("//evil.example/x", False),
    ("/\\evil.example", False), ("https://evil.example/", False), ("/a b", False),
    ("/a\nb", False), ("/é", False), ("/" + "a" * 3000, False),
])
def test_return_to_rule(value: str | None, safe: bool) -> None:
    assert safe_return_to(value) == (value if safe else ACCOUNT_PAGE)


def test_back_off_doubles_after_the_free_failures_and_is_forgotten() -> None:
    async def go() -> None:
        events = MemoryEvents(max_keys=2)
        backoff = BackOff(free=3, base=5, cap=60, forget=1000, events=events)
        for t in (0, 1, 2):
            assert await backoff.retry_after("k", now=t) is None
            await backoff.fail("k", now=t)
        waits = []
        now = 2.0
        for _ in range(5):  # each further failure doubles the wait, up to the cap
            wait = await backoff.retry_after("k", now=now)
            waits.append(wait)
            now += wait or 0
            await backoff.fail("k", now=now)
        assert waits == [5, 10, 20, 40, 60]
        assert await backoff.retry_after("k", now=now + 59) == 1
        assert await backoff.retry_after("k", now=now + 1000) is None  # quiet: forgotten
        await backoff.fail("k", now=now + 1000)
        assert await backoff.retry_after("k", now=now + 1000) is None  # it starts afresh
        await backoff.clear("k")
        for key in ("a", "b", "c"):
            await backoff.fail(key, now=1)
        assert len(events._events) == 2  # only two keys are kept

    asyncio.run(go())


def test_failure_limiter_window_and_bounds() -> None:
    async def go() -> None:
        limiter = FailureLimiter(limit=3, window=100, max_keys=2)
        for t in (0, 10, 20):
            assert await limiter.retry_after("k", now=t) is None
            await limiter.fail("k", now=t)
        assert await limiter.retry_after("k", now=30) == 70  # until the failure at 0 leaves
        assert await limiter.retry_after("k", now=100.5) is None  # two left in the window
        await limiter.fail("a", now=101)
        await limiter.fail("b", now=102)  # only two keys are kept: "k" is dropped
        assert await limiter.retry_after("k", now=103) is None
        await limiter.clear("a")
        assert await limiter.retry_after("a", now=103) is None

    asyncio.run(go())

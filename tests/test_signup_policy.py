"""The sign-up policy (setting ``signup``: open, closed, invite) through live servers: a closed
server explains itself and makes no account; an invitation link makes exactly one; the
operator's ``commonpod account create`` works whatever the policy."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Server, cli, new_server
from tests.test_accounts import PASSWORD, csrf_of, login, signed_in, unique


def policy_server(tmp: Path, policy: str) -> Server:
    server = new_server(tmp)
    with (server.data_dir / "settings.toml").open("a") as f:  # the server and the CLI read it
        f.write(f'signup = "{policy}"\n')
    return server.start()


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = policy_server(tmp_path_factory.mktemp("closed"), "closed")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def invited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = policy_server(tmp_path_factory.mktemp("invite"), "invite")
    yield server
    server.stop()


def browser(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=20)


def post_signup(c: httpx.Client, name: str, token: str, invite: str | None = None,
                password: str = PASSWORD, confirm: str | None = None) -> httpx.Response:
    form = {"csrf": token, "name": name, "password": password,
            "confirm": password if confirm is None else confirm}
    if invite is not None:
        form["invite"] = invite
    return c.post("/.account/signup", data=form)


def pod_exists(server: Server, name: str) -> bool:
    return httpx.get(f"{server.base}{name}/profile/card").status_code == 200


def invitation(server: Server, *flags: str) -> tuple[str, str]:
    """A new invitation: (the link's path and query, its token)."""
    made = json.loads(cli("invite", "create", *flags, data_dir=server.data_dir).stdout)
    link = urlsplit(made["link"])
    assert made["link"].startswith(server.base + ".account/signup?invite=")
    return f"{link.path}?{link.query}", link.query.removeprefix("invite=")


def test_a_closed_server_explains_itself_and_makes_no_account(closed: Server) -> None:
    name = unique()
    with browser(closed) as c:
        page = c.get("/.account/signup")
        assert page.status_code == 200
        assert "does not take sign-ups" in page.text and "operator" in page.text
        assert 'action="/.account/signup"' not in page.text  # no form to fill in
        token = csrf_of(c.get("/.account/login"))  # a valid visitor token all the same
        refused = post_signup(c, name, token)
        assert refused.status_code == 403 and "does not take sign-ups" in refused.text
        assert "cp_session" not in c.cookies
    assert not pod_exists(closed, name)
    home = httpx.get(closed.base).text
    assert "sign-up is closed" in home and 'href="/.account/signup"' not in home.split(
        "<main", 1)[-1]


def test_the_operator_creates_accounts_whatever_the_policy(closed: Server,
                                                           invited: Server) -> None:
    for server in (closed, invited):
        name = unique("op")
        made = cli("account", "create", name, "--password-file", "-",
                   data_dir=server.data_dir, input=PASSWORD + "\n")
        assert json.loads(made.stdout)["pod"] == f"{server.base}{name}/"
        with browser(server) as c:
            assert login(c, name).status_code == 303 and signed_in(c)


def test_an_invitation_link_makes_exactly_one_account(invited: Server) -> None:
    with browser(invited) as c:
        page = c.get("/.account/signup")  # no invitation: the policy in words, no form
        assert page.status_code == 200 and "by invitation" in page.text
        assert 'action="/.account/signup"' not in page.text
        assert "needs an invitation link" in c.get("/").text
        nobody = unique()
        assert post_signup(c, nobody, csrf_of(c.get("/.account/login"))).status_code == 403
    assert not pod_exists(invited, nobody)

    link, invite = invitation(invited)
    first, second = unique(), unique()
    with browser(invited) as c:
        form = c.get(link)
        assert form.status_code == 200 and f'name="invite" value="{invite}"' in form.text
        done = post_signup(c, first, csrf_of(form), invite)
        assert done.status_code == 303 and signed_in(c)
    assert pod_exists(invited, first)
    with browser(invited) as c:  # the same link again
        page = c.get(link)
        assert page.status_code == 403 and "not valid" in page.text
        assert 'action="/.account/signup"' not in page.text
        again = post_signup(c, second, csrf_of(c.get("/.account/login")), invite)
        assert again.status_code == 403 and "not valid" in again.text
    assert not pod_exists(invited, second)


def test_a_refused_form_does_not_use_up_the_invitation(invited: Server) -> None:
    link, invite = invitation(invited)
    taken = unique()
    cli("account", "create", taken, "--password-file", "-", data_dir=invited.data_dir,
        input=PASSWORD + "\n")
    name = unique()
    with browser(invited) as c:
        token = csrf_of(c.get(link))
        mismatch = post_signup(c, name, token, invite, confirm="something else")
        assert mismatch.status_code == 400 and f'value="{invite}"' in mismatch.text
        taken_answer = post_signup(c, taken, token, invite)
        assert taken_answer.status_code == 400 and "taken" in taken_answer.text
        assert post_signup(c, name, token, invite, password="short").status_code == 400
        assert post_signup(c, name, token, invite).status_code == 303
    assert pod_exists(invited, name)


def test_an_expired_invitation_is_refused(invited: Server) -> None:
    link, invite = invitation(invited, "--days", "0.00002")  # about 1.7 seconds
    time.sleep(2.5)
    name = unique()
    with browser(invited) as c:
        assert c.get(link).status_code == 403
        refused = post_signup(c, name, csrf_of(c.get("/.account/login")), invite)
        assert refused.status_code == 403
    assert not pod_exists(invited, name)


def test_invitations_are_only_made_for_an_invite_server(closed: Server, server: Server
                                                       ) -> None:
    for other in (closed, server):  # server: the default, open
        done = cli("invite", "create", data_dir=other.data_dir, check=False)
        assert done.returncode != 0 and 'signup = "invite"' in done.stderr
    done = cli("invite", "create", "--days", "0", data_dir=closed.data_dir, check=False)
    assert done.returncode != 0 and "days" in done.stderr


def test_the_default_policy_is_open(server: Server) -> None:
    name = unique()
    with browser(server) as c:
        page = c.get("/.account/signup")
        assert 'action="/.account/signup"' in page.text
        assert post_signup(c, name, csrf_of(page)).status_code == 303
    assert pod_exists(server, name)


def test_an_unknown_policy_stops_the_server_from_starting(tmp_path: Path) -> None:
    server = new_server(tmp_path)
    done = cli("serve", "--port", str(server.port), data_dir=server.data_dir, check=False,
               env={"COMMONPOD_SIGNUP": "sometimes"})
    assert done.returncode != 0 and "signup" in done.stderr

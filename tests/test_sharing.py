"""Sharing from the browser (issue #14): the ACL written as WAC, what the person shared with
can then do with their own DPoP token, taking access away, WebIDs that do not resolve,
groups and everyone, the inbox notification (here and on a second server) and "shared with
you" — all against live server processes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from tests.conftest import Server, new_server
from tests.dpop import DPoPClient
from tests.test_accounts import csrf_of, login

PASSWORD = "a long enough password"  # what Server.create_account sets
ACL = "http://www.w3.org/ns/auth/acl#"
AS = "https://www.w3.org/ns/activitystreams#"


@dataclass
class Person:
    """An account with a signed-in browser and a DPoP client of its own."""

    name: str
    webid: str
    pod: str
    browser: httpx.Client
    api: DPoPClient


def person(srv: Server, prefix: str = "p") -> Person:
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    made = srv.create_account(name)
    browser = httpx.Client(base_url=srv.base, timeout=20)
    assert login(browser, name, PASSWORD).status_code == 303
    return Person(name, made["webid"], made["pod"], browser, DPoPClient(srv.base, made))


def put(who: Person, url: str, body: bytes, ctype: str = "text/plain") -> None:
    done = who.api.request("PUT", url, content=body, headers={"Content-Type": ctype})
    assert done.status_code in (201, 204), done.text


def share_page(who: Person, resource: str) -> httpx.Response:
    return who.browser.get("/.account/share", params={"resource": resource})


def share(who: Person, resource: str, kind: str, whom: str = "", *modes: str,
          csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else csrf_of(share_page(who, resource))
    form = {"csrf": token, "resource": resource, "kind": kind, "who": whom,
            **{m: "1" for m in modes or ("read",)}}
    return who.browser.post("/.account/share", data=form)


def unshare(who: Person, resource: str, kind: str, whom: str = "") -> httpx.Response:
    token = csrf_of(share_page(who, resource))
    return who.browser.post("/.account/share/remove", data={
        "csrf": token, "resource": resource, "kind": kind, "who": whom})


def acl_triples(who: Person, resource: str) -> set[tuple[str, str, str]]:
    """The resource's own ACL, as (subject, predicate, object) values."""
    got = who.api.request("GET", resource + ".acl", headers={"Accept": "text/turtle"})
    assert got.status_code == 200, got.text
    return {(t.subject.value, t.predicate.value, t.object.value)
            for t in ox.parse(got.content, ox.RdfFormat.TURTLE, base_iri=resource + ".acl")}


def modes_of(triples: set[tuple[str, str, str]], predicate: str, party: str,
             resource: str) -> set[str]:
    """The modes the ACL's authorizations naming ``party`` give on ``resource``."""
    nodes = {s for s, p, o in triples if p == ACL + predicate and o == party}
    nodes = {s for s in nodes if (s, ACL + "accessTo", resource) in triples}
    return {o.removeprefix(ACL) for s, p, o in triples if s in nodes and p == ACL + "mode"}


def inbox_items(who: Person) -> list[set[tuple[str, str, str]]]:
    """The triples of each notification in ``who``'s inbox (read with their token)."""
    listing = who.api.request("GET", who.pod + "inbox/", headers={"Accept": "text/turtle"})
    assert listing.status_code == 200
    members = [t.object.value for t in ox.parse(listing.content, ox.RdfFormat.TURTLE,
                                                 base_iri=who.pod + "inbox/")
               if t.predicate.value == "http://www.w3.org/ns/ldp#contains"]
    out = []
    for url in members:
        got = who.api.request("GET", url, headers={"Accept": "text/turtle"})
        out.append({(t.subject.value, t.predicate.value, t.object.value)
                    for t in ox.parse(got.content, ox.RdfFormat.TURTLE, base_iri=url)})
    return out


def announced(who: Person, resource: str, actor: str) -> bool:
    for triples in inbox_items(who):
        nodes = {s for s, p, o in triples if p.endswith("#type") and o == AS + "Announce"}
        if any((n, AS + "object", resource) in triples and (n, AS + "actor", actor) in triples
               for n in nodes):
            return True
    return False


@pytest.fixture(scope="module")
def two(server: Server) -> Iterator[tuple[Person, Person]]:
    alice, bob = person(server, "alice"), person(server, "bob")
    yield alice, bob
    alice.browser.close()
    bob.browser.close()


def test_sharing_a_file_writes_wac_that_lets_them_read_it_and_tells_them(
        two: tuple[Person, Person]) -> None:
    alice, bob = two
    note = alice.pod + "docs/note.txt"
    put(alice, note, b"hello bob")
    assert bob.api.request("GET", note).status_code == 403
    page = share_page(alice, note)
    assert page.status_code == 200 and "note.txt" in page.text and "Nobody but you" not in page.text
    done = share(alice, note, "person", bob.webid, "read")
    assert done.status_code == 303
    assert "notified=yes" in done.headers["location"]
    assert bob.api.request("GET", note).text == "hello bob"
    assert bob.api.request("PUT", note, content=b"x",
                           headers={"Content-Type": "text/plain"}).status_code == 403
    acl = acl_triples(alice, note)
    assert modes_of(acl, "agent", bob.webid, note) == {"Read"}
    assert {"Read", "Write", "Control"} <= modes_of(acl, "agent", alice.webid, note)
    assert announced(bob, note, alice.webid)
    listed = share_page(alice, note).text
    assert bob.name in listed and "can see" in listed
    shared = bob.browser.get("/.account/shared")
    assert shared.status_code == 200 and f'href="{note}"' in shared.text
    assert "note.txt" in shared.text


def test_taking_access_away_revokes_it_and_it_leaves_shared_with_you(
        two: tuple[Person, Person]) -> None:
    alice, bob = two
    paper = alice.pod + "docs/paper.txt"
    put(alice, paper, b"draft")
    assert share(alice, paper, "person", bob.webid, "read", "write").status_code == 303
    assert bob.api.request("PUT", paper, content=b"edited",
                           headers={"Content-Type": "text/plain"}).status_code == 204
    assert f'href="{paper}"' in bob.browser.get("/.account/shared").text
    gone = unshare(alice, paper, "person", bob.webid)
    assert gone.status_code == 303 and "done=removed" in gone.headers["location"]
    assert bob.api.request("GET", paper).status_code == 403
    assert modes_of(acl_triples(alice, paper), "agent", bob.webid, paper) == set()
    assert f'href="{paper}"' not in bob.browser.get("/.account/shared").text  # disproved
    refused = unshare(alice, paper, "person", alice.webid)  # the owner stays
    assert refused.status_code == 400 and "always keeps access" in refused.text
    assert alice.api.request("GET", paper).text == "edited"


def test_a_webid_that_does_not_resolve_is_refused_and_nothing_is_written(
        server: Server, two: tuple[Person, Person]) -> None:
    alice, _ = two
    memo = alice.pod + "docs/memo.txt"
    put(alice, memo, b"memo")
    for whom in (server.base + "nobody/profile/card#me", "http://127.0.0.1:9/card#me",
                 alice.pod + "settings/publicTypeIndex.ttl#me", "not a url", ""):
        refused = share(alice, memo, "person", whom, "read")
        assert refused.status_code == 400, whom
        assert 'role="alert"' in refused.text
        assert alice.api.request("GET", memo + ".acl").status_code == 404
    assert share(alice, memo, "person", alice.webid).status_code == 303  # the form works


def test_only_who_holds_control_may_see_or_change_access(two: tuple[Person, Person]) -> None:
    alice, bob = two
    secret = alice.pod + "docs/secret.txt"
    put(alice, secret, b"s")
    assert share_page(bob, secret).status_code == 403
    token = csrf_of(bob.browser.get("/.account/"))
    refused = share(bob, secret, "public", "", "read", csrf=token)
    assert refused.status_code == 403
    assert alice.api.request("GET", secret + ".acl").status_code == 404
    no_csrf = alice.browser.post("/.account/share", data={
        "resource": secret, "kind": "public", "read": "1"})
    assert no_csrf.status_code == 403
    assert httpx.get(secret).status_code == 401


def test_a_container_shared_with_a_group_then_signed_in_people_then_everyone(
        server: Server, two: tuple[Person, Person]) -> None:
    alice, bob = two
    carol = person(server, "carol")
    folder = alice.pod + "team/"
    put(alice, folder + "plan.txt", b"plan")
    group = alice.pod + "groups/friends"
    put(alice, group, f"<#us> a <http://www.w3.org/2006/vcard/ns#Group>; "
                      f"<http://www.w3.org/2006/vcard/ns#fn> \"Friends\"; "
                      f"<http://www.w3.org/2006/vcard/ns#hasMember> <{bob.webid}>.".encode(),
        "text/turtle")
    assert share(alice, folder, "group", group + "#us", "read").status_code == 303
    assert bob.api.request("GET", folder + "plan.txt").text == "plan"
    assert carol.api.request("GET", folder + "plan.txt").status_code == 403
    assert "Friends" in share_page(alice, folder).text
    assert share(alice, folder, "authenticated", "", "read").status_code == 303
    assert carol.api.request("GET", folder + "plan.txt").status_code == 200
    assert httpx.get(folder + "plan.txt").status_code == 401
    assert share(alice, folder, "public", "", "read").status_code == 303
    assert httpx.get(folder + "plan.txt").text == "plan"
    assert "Everyone, signed in or not" in share_page(alice, folder).text
    assert unshare(alice, folder, "public").status_code == 303
    assert httpx.get(folder + "plan.txt").status_code == 401
    not_a_group = share(alice, folder, "group", alice.webid, "read")
    assert not_a_group.status_code == 400 and "vcard:Group" in not_a_group.text
    carol.browser.close()


def test_inherited_access_is_kept_when_a_resource_gets_its_own_acl(
        two: tuple[Person, Person]) -> None:
    """Sharing one file of a shared folder copies the folder's authorizations into the file's
    new ACL first: whoever could read it before still can."""
    alice, bob = two
    folder = alice.pod + "club/"
    put(alice, folder + "a.txt", b"a")
    assert share(alice, folder, "authenticated", "", "read").status_code == 303
    page = share_page(alice, folder + "a.txt")
    assert "These settings come from club" in page.text and "Everyone signed in" in page.text
    assert share(alice, folder + "a.txt", "person", bob.webid, "write").status_code == 303
    acl = acl_triples(alice, folder + "a.txt")
    assert modes_of(acl, "agentClass", ACL + "AuthenticatedAgent", folder + "a.txt") == {"Read"}
    assert bob.api.request("GET", folder + "a.txt").text == "a"


def test_the_notification_reaches_another_server_only_when_its_inbox_takes_it(
        tmp_path: Path, two: tuple[Person, Person]) -> None:
    alice, _ = two
    other = new_server(tmp_path).start()
    try:
        dave = person(other, "dave")
        report = alice.pod + "docs/report.txt"
        put(alice, report, b"for dave")
        first = share(alice, report, "person", dave.webid, "read")
        assert first.status_code == 303 and "notified=signed-in-only" in first.headers["location"]
        told = alice.browser.get(first.headers["location"])
        assert "They were not told" in told.text
        assert not announced(dave, report, alice.webid)
        # dave's own token, from his server, reads what alice shared on hers
        assert dave.api.request("GET", report).text == "for dave"
        open_inbox = (f"<#owner> a <{ACL}Authorization>; <{ACL}agent> <{dave.webid}>; "
                      f"<{ACL}accessTo> <./>; <{ACL}default> <./>; "
                      f"<{ACL}mode> <{ACL}Read>, <{ACL}Write>, <{ACL}Control>.\n"
                      f"<#anyone> a <{ACL}Authorization>; <{ACL}agentClass> "
                      f"<http://xmlns.com/foaf/0.1/Agent>; <{ACL}accessTo> <./>; "
                      f"<{ACL}default> <./>; <{ACL}mode> <{ACL}Append>.").encode()
        put(dave, dave.pod + "inbox/.acl", open_inbox, "text/turtle")
        second = share(alice, report, "person", dave.webid, "read", "append")
        assert "notified=yes" in second.headers["location"]
        assert announced(dave, report, alice.webid)
        shared = dave.browser.get("/.account/shared").text
        assert f'href="{report}"' in shared and "not checked" in shared
        dave.browser.close()
    finally:
        other.stop()


def test_the_recipient_sees_the_notification_in_their_access_log(
        two: tuple[Person, Person]) -> None:
    alice, bob = two
    card = alice.pod + "docs/card.txt"
    put(alice, card, b"c")
    assert "notified=yes" in share(alice, card, "person", bob.webid).headers["location"]
    log = bob.api.request("GET", bob.pod.split("/" + bob.name)[0] + "/.api/log",
                          params={"pod": bob.name})
    assert log.status_code == 200
    assert any(r["agent"] == alice.webid and r["method"] == "POST"
               and r["target"] == bob.pod + "inbox/" for r in log.json()["records"])


def test_share_pages_refuse_what_is_not_a_resource_here(two: tuple[Person, Person]) -> None:
    alice, _ = two
    for resource in ("https://elsewhere.example/x", alice.pod + "docs/note.txt.acl",
                     alice.pod + "nothing-here", "", alice.pod.replace("/" + alice.name,
                                                                       "/nopod1")):
        page = share_page(alice, resource)
        assert page.status_code in (400, 403, 404), resource
        assert re.search(r"<h1>", page.text)
    grants = share(alice, alice.pod + "grants/", "public", "", "read")
    assert grants.status_code == 400 and "stays yours alone" in grants.text
    assert httpx.get(alice.pod + "grants/").status_code == 401
    for kind, whom in (("person", "not a url"), ("group", "http://x.example/a b"),
                       ("nobody", alice.webid)):  # found by tests/test_fuzz.py: once a 500
        refused = unshare(alice, alice.pod, kind, whom)
        assert refused.status_code == 400, (kind, whom)
    anonymous = httpx.get(alice.browser.base_url.join("/.account/share"),
                          params={"resource": alice.pod}, follow_redirects=False)
    assert anonymous.status_code == 303 and "/.account/login" in anonymous.headers["location"]

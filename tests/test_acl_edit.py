"""The ACL editor behind the sharing pages (pod/access/acl_edit.py), on its own: what each
edit does to an ACL's triples, read back the way the access decision reads them."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from pod.access import acl_edit
from pod.access.acl_edit import EditRefused, Party
from pod.access.agent import Agent
from pod.access.modes import Mode
from pod.access.wac import granted, parse_acl

POD = "https://pod.example/alice/"
OWNER = POD + "profile/card#me"
BOB, CAROL = "https://b.example/bob#me", "https://c.example/carol#me"
DOC = POD + "docs/x.ttl"
ACL = DOC + ".acl"
A = "http://www.w3.org/ns/auth/acl#"


def turtle(text: str, base: str = ACL) -> list[ox.Triple]:
    prefixes = f"@prefix acl: <{A}>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
    return [q.triple for q in ox.parse((prefixes + text).encode(), ox.RdfFormat.TURTLE,
                                       base_iri=base)]


def modes(triples: list[ox.Triple], webid: str | None, url: str = DOC,
          inherited: bool = False) -> set[Mode]:
    return granted(parse_acl(triples), Agent(webid=webid), url, inherited)


def test_sharing_gives_exactly_the_modes_and_sharing_again_replaces_them() -> None:
    once = acl_edit.share([], ACL, DOC, False, Party("person", BOB),
                          frozenset({Mode.READ, Mode.WRITE}), OWNER)
    assert modes(once, BOB) == {Mode.READ, Mode.WRITE, Mode.APPEND}
    assert modes(once, OWNER) == {Mode.READ, Mode.WRITE, Mode.APPEND, Mode.CONTROL}
    assert modes(once, CAROL) == set()
    again = acl_edit.share(once, ACL, DOC, False, Party("person", BOB),
                           frozenset({Mode.READ}), OWNER)
    assert modes(again, BOB) == {Mode.READ}
    assert len(again) == len(once) - 1  # one authorization for bob, Write gone
    with pytest.raises(EditRefused):
        acl_edit.share(once, ACL, DOC, False, Party("person", BOB), frozenset({Mode.CONTROL}),
                       OWNER)


def test_a_shared_folder_gives_its_members_the_same_access() -> None:
    folder = POD + "docs/"
    shared = acl_edit.share([], folder + ".acl", folder, True, Party.everyone(),
                            frozenset({Mode.READ}), OWNER)
    assert modes(shared, None, folder) == {Mode.READ}
    assert modes(shared, None, folder, inherited=True) == {Mode.READ}  # acl:default


def test_taking_access_away_keeps_everyone_else_in_a_shared_authorization() -> None:
    triples = turtle(f"""<#both> a acl:Authorization; acl:agent <{BOB}>, <{CAROL}>;
        acl:accessTo <{DOC}>; acl:mode acl:Read.
        <#bob> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{DOC}>;
        acl:mode acl:Write.""")
    left = acl_edit.unshare(triples, ACL, DOC, False, Party("person", BOB), OWNER)
    assert modes(left, BOB) == set()
    assert modes(left, CAROL) == {Mode.READ}
    assert not any(t.subject.value == ACL + "#bob" for t in left)  # it named only bob
    assert modes(left, OWNER) >= {Mode.READ, Mode.WRITE, Mode.CONTROL}
    with pytest.raises(EditRefused):
        acl_edit.unshare(left, ACL, DOC, False, Party("person", OWNER), OWNER)
    with pytest.raises(EditRefused):
        acl_edit.unshare(left, ACL, DOC, False, Party("person", "not an iri"), OWNER)


def test_an_own_acl_starts_from_what_the_container_gave() -> None:
    folder = POD + "docs/"
    inherited = turtle(f"""<#o> a acl:Authorization; acl:agent <{OWNER}>;
        acl:accessTo <{folder}>; acl:default <{folder}>; acl:mode acl:Read, acl:Write,
        acl:Control.
        <#signed> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent;
        acl:default <{folder}>; acl:mode acl:Read; acl:origin <https://app.example>.
        <#only-folder> a acl:Authorization; acl:agent <{CAROL}>; acl:accessTo <{folder}>;
        acl:mode acl:Read.""", folder + ".acl")
    own = acl_edit.inherit(parse_acl(inherited), folder, ACL, DOC, False)
    for who in (OWNER, BOB, CAROL, None):
        for origin in (None, "https://app.example"):
            agent = Agent(webid=who, origin=origin)
            assert granted(parse_acl(own), agent, DOC, False) == \
                granted(parse_acl(inherited), agent, folder, True), (who, origin)
    holders = acl_edit.holders(parse_acl(own), DOC, False)
    assert [(h.party.kind, h.origins) for h in holders] == [
        ("authenticated", frozenset({"https://app.example"})), ("person", frozenset())]


def test_the_owner_keeps_read_write_and_control_whatever_the_acl_said() -> None:
    triples = turtle(f"<#bob> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <{DOC}>; "
                     f"acl:mode acl:Read.")
    kept = acl_edit.keep_owner(triples, ACL, DOC, False, OWNER)
    assert modes(kept, OWNER) == {Mode.READ, Mode.WRITE, Mode.APPEND, Mode.CONTROL}
    assert acl_edit.keep_owner(kept, ACL, DOC, False, OWNER) == kept  # already so

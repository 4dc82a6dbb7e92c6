"""A private ``vcard:Group`` document cannot be probed through an ACL in another pod (#9 §6):
a local group document counts only if the owner of the pod whose ACL names it may read it."""

from __future__ import annotations

import uuid

from tests.conftest import Server
from tests.dpop import DPoPClient

TTL = {"Content-Type": "text/turtle"}
ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
VCARD = "http://www.w3.org/2006/vcard/ns#"


def _put(who: DPoPClient, url: str, body: str) -> None:
    r = who.request("PUT", url, content=body.encode(), headers=TTL)
    assert r.status_code in (201, 204), r.text


def _owner_only(owner: str, doc: str, extra: str = "") -> str:
    return ACL + (f"<#o> a acl:Authorization; acl:agent <{owner}>; acl:accessTo <{doc}>;"
                  f" acl:mode acl:Control, acl:Write, acl:Read.\n{extra}")


def test_an_acl_cannot_reveal_members_of_a_group_its_owner_may_not_read(server: Server) -> None:
    tag = uuid.uuid4().hex[:6]
    alice, bob, carol = (server.create_account(f"{who}{tag}") for who in ("ga", "gb", "gc"))
    a, b, c = (DPoPClient(server.base, who) for who in (alice, bob, carol))
    secret = bob["pod"] + "groups/secret.ttl"  # owner-only, like everything in a new pod
    _put(b, secret, f"<#g> a <{VCARD}Group>; <{VCARD}hasMember> <{carol['webid']}>.")
    assert a.request("GET", secret).status_code == 403  # Alice may not read Bob's group

    probe = alice["pod"] + "probe/doc.ttl"
    _put(a, probe, "<#a> <#b> <#c>.")
    _put(a, probe + ".acl", _owner_only(
        alice["webid"], "doc.ttl", f"<#g> a acl:Authorization; acl:agentGroup <{secret}#g>;"
                                   " acl:accessTo <doc.ttl>; acl:mode acl:Read.\n"))
    r = c.request("GET", probe)
    assert r.status_code == 403, "Carol's answer would tell Alice she is in Bob's group"

    # once Bob lets Alice read the group, her ACL may use it — on the very next request
    _put(b, secret + ".acl", _owner_only(
        bob["webid"], "secret.ttl", f"<#r> a acl:Authorization; acl:agent <{alice['webid']}>;"
                                    " acl:accessTo <secret.ttl>; acl:mode acl:Read.\n"))
    r = c.request("GET", probe)
    assert r.status_code == 200, r.text
    assert 'user="read"' in r.headers["wac-allow"]
    _put(b, secret + ".acl", _owner_only(bob["webid"], "secret.ttl"))
    assert c.request("GET", probe).status_code == 403

    # Bob's own ACLs use his own private group as before
    mine = bob["pod"] + "club/doc.ttl"
    _put(b, mine, "<#a> <#b> <#c>.")
    _put(b, mine + ".acl", _owner_only(
        bob["webid"], "doc.ttl", f"<#g> a acl:Authorization; acl:agentGroup <{secret}#g>;"
                                 " acl:accessTo <doc.ttl>; acl:mode acl:Read.\n"))
    assert c.request("GET", mine).status_code == 200

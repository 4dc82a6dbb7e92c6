"""The WebID profile a new pod gets (Solid WebID Profile, Type Indexes)."""

from __future__ import annotations

import httpx
import pyoxigraph as ox

from tests.conftest import Server

SOLID = "http://www.w3.org/ns/solid/terms#"
PIM = "http://www.w3.org/ns/pim/space#"
LDP = "http://www.w3.org/ns/ldp#"


def _graph(url: str) -> set[ox.Triple]:
    r = httpx.get(url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    return set(ox.parse(r.content, ox.RdfFormat.TURTLE, base_iri=url))


def _objects(g: set[ox.Triple], s: str, p: str) -> set[str]:
    return {t.object.value for t in g if t.subject.value == s and t.predicate.value == p}


def test_profile_names_issuer_storage_inbox_and_type_indexes(server: Server) -> None:
    pod = server.base + "alice/"
    me = pod + "profile/card#me"
    g = _graph(pod + "profile/card")
    assert "http://xmlns.com/foaf/0.1/Person" in _objects(
        g, me, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert _objects(g, me, SOLID + "oidcIssuer") == {server.base}
    assert _objects(g, me, PIM + "storage") == {pod}
    assert _objects(g, me, LDP + "inbox") == {pod + "inbox/"}
    [public_index] = _objects(g, me, SOLID + "publicTypeIndex")
    assert SOLID + "ListedDocument" in _objects(
        _graph(public_index), public_index, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    [prefs] = _objects(g, me, PIM + "preferencesFile")
    assert httpx.get(prefs).status_code == 401  # the preferences file is private
    assert httpx.get(pod + "settings/privateTypeIndex.ttl").status_code == 401
    assert httpx.post(pod + "inbox/", content=b"<#n> <#m> <#o>.",
                      headers={"Content-Type": "text/turtle"}).status_code == 401


def test_contributions_are_private_and_registered_in_the_private_type_index(
        server: Server) -> None:
    import json

    from tests.conftest import cli
    from tests.dpop import DPoPKey, client_credentials_token, dpop_headers

    made = json.loads(cli("account", "create", "tia", "--password-file", "-",
                          data_dir=server.data_dir, input="type index pass\n").stdout)
    cred = json.loads(cli("credentials", "create", "tia", data_dir=server.data_dir).stdout)
    key = DPoPKey()
    token = client_credentials_token(server.base, cred["client_id"], cred["client_secret"], key)
    pod = made["pod"]
    assert httpx.get(pod + "contributions/").status_code == 401
    url = pod + "settings/privateTypeIndex.ttl"
    r = httpx.get(url, headers={**dpop_headers(key, token, "GET", url), "Accept": "text/turtle"})
    assert r.status_code == 200
    g = set(ox.parse(r.content, ox.RdfFormat.TURTLE, base_iri=url))
    registrations = {t.subject.value for t in g if t.object.value == SOLID + "TypeRegistration"}
    found = {(cls, container) for r in registrations
             for cls in _objects(g, r, SOLID + "forClass")
             for container in _objects(g, r, SOLID + "instanceContainer")}
    cp, vf = "https://commonpod.org/ns#", "https://w3id.org/valueflows/ont/vf#"
    assert found == {(cp + "Contribution", pod + "contributions/"),
                     (vf + "Appreciation", pod + "appreciations/"),
                     (cp + "RewardStatement", pod + "rewards/"),
                     (cp + "ReputationStatement", pod + "reputation/"),
                     (cp + "AccessGrant", pod + "grants/")}
    for container in ("appreciations/", "rewards/", "reputation/", "grants/"):
        assert httpx.get(pod + container).status_code == 401
    listed = httpx.get(pod + "contributions/", headers=dpop_headers(
        key, token, "GET", pod + "contributions/"))
    assert listed.status_code == 200

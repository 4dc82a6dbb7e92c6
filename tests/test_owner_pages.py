"""The owner's pages, part B, through HTTP on a live server: the profile editor, contributions
(with the shape's refusals shown at their fields), statements received (verified again, or
why not), and the access log's filters and paging. Every page is for its signed-in owner only;
every form needs its CSRF token; refused input shows a readable page and stores nothing."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest

from apps.sdk.statements.builders import reward_statement
from tests.conftest import Server, cli, new_server
from tests.dpop import DPoPClient
from tests.forms import form_fields

PASSWORD = "a long enough password"
FOAF, VCARD = "http://xmlns.com/foaf/0.1/", "http://www.w3.org/2006/vcard/ns#"
CP, VF = "https://commonpod.org/ns#", "https://w3id.org/valueflows/ont/vf#"
SCHEMA = "https://schema.org/"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
       b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
PAGES = ("/.account/profile", "/.account/contributions", "/.account/contributions/edit",
         "/.account/statements", "/.account/grants", "/.account/log")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("owner-pages"))
    server.start()
    yield server
    server.stop()


def account(srv: Server, prefix: str) -> dict[str, str]:
    name = f"{prefix}{uuid.uuid4().hex[:6]}"
    return {**srv.create_account(name), "name": name}


@contextmanager
def signed_in(srv: Server, who: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=srv.base, timeout=30) as c:
        page = c.get("/.account/login")
        r = c.post("/.account/login", data={**form_fields(page.text, "/.account/login"),
                                             "name": who["name"], "password": PASSWORD})
        assert r.status_code == 303, r.text
        yield c


def html(r: httpx.Response, status: int = 200) -> str:
    assert r.status_code == status, f"{r.request.url}: {r.status_code} {r.text[:3000]}"
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text
    return r.text


def triples(who: DPoPClient, url: str) -> set[ox.Triple]:
    r = who.request("GET", url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    return {q.triple for q in ox.parse(r.content, ox.RdfFormat.TURTLE, base_iri=url)}


def field_error(page: str, field: str) -> str:
    """The text shown beside a form field as its error."""
    found = re.search(rf'id="{field}-error">(.*?)</span>', page, re.S)
    assert found, f"no error shown at {field}"
    return unescape(found.group(1))


def test_each_page_is_for_its_signed_in_owner_and_forms_need_csrf(srv: Server) -> None:
    who = account(srv, "p")
    with httpx.Client(base_url=srv.base, timeout=30) as anonymous:
        for path in PAGES:
            r = anonymous.get(path)
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/.account/login?return_to=")
        for path in ("/.account/contributions/edit", "/.account/contributions/delete"):
            assert anonymous.post(path, data={"csrf": "x"}).status_code in (303, 403)
    with signed_in(srv, who) as c:
        for path in PAGES:
            html(c.get(path))
        before = c.get(who["webid"], headers={"Accept": "text/turtle"}).content
        forged = c.post("/.account/profile", files={"photo": ("", b"")},
                        data={"csrf": "forged", "name": "Mallory"})
        refused = html(forged, 403)
        assert "This form cannot be accepted" in refused
        # the error page is one of the owner's pages: signed in, with the navigation
        assert "Signed in as" in refused and "/.account/signup" not in refused
        assert 'href="/.account/contributions"' in refused
        no_token = c.post("/.account/contributions/edit",
                          data={"name": "x", "kind": CP + "Code", "scope": "https://x.example/",
                                "date": "2025-01-01"})
        html(no_token, 403)
        assert c.get(who["webid"], headers={"Accept": "text/turtle"}).content == before
    owner = DPoPClient(srv.base, who)
    listing = triples(owner, who["pod"] + "contributions/")
    assert not any(t.predicate.value.endswith("#contains") for t in listing)


def test_the_profile_editor_writes_the_webid_profile_and_keeps_the_rest(srv: Server) -> None:
    who = account(srv, "prof")
    owner = DPoPClient(srv.base, who)
    card = who["webid"].split("#")[0]
    before = triples(owner, card)
    me = ox.NamedNode(who["webid"])
    managed = {FOAF + "name", VCARD + "hasPhoto", VCARD + "note", VCARD + "url"}
    with signed_in(srv, who) as c:
        page = html(c.get("/.account/profile"))
        assert f'value="{who["name"]}"' in page  # the name the profile had
        fields = form_fields(page, "/.account/profile")
        r = c.post("/.account/profile", data={**fields, "name": "Amara Okafor",
                                               "bio": "I mend toasters.\nAnd people.",
                                               "links": "https://amara.example/\n"
                                                        "https://social.example/@amara"},
                   files={"photo": ("me.png", PNG, "application/octet-stream")})
        assert r.status_code == 303 and r.headers["location"] == "/.account/profile?saved=1"
        page = html(c.get(r.headers["location"]))
        assert "Your profile was saved" in page and "Amara Okafor" in page
    after = triples(owner, card)
    assert {t for t in before if t.predicate.value not in managed or t.subject != me} == \
        {t for t in after if t.predicate.value not in managed or t.subject != me}
    said = {t.predicate.value: t.object.value for t in after if t.subject == me}
    assert said[FOAF + "name"] == "Amara Okafor"
    assert said[VCARD + "note"] == "I mend toasters.\nAnd people."
    links = {t.object.value for t in after if t.predicate.value == VCARD + "url"}
    assert links == {"https://amara.example/", "https://social.example/@amara"}
    photo = said[VCARD + "hasPhoto"]
    assert photo == who["pod"] + "profile/photo.png"
    seen = httpx.get(photo, timeout=20)  # public, as the profile is
    assert seen.status_code == 200 and seen.content == PNG
    assert seen.headers["content-type"].startswith("image/png")
    assert httpx.get(who["pod"] + "profile/", timeout=20).status_code == 401  # nothing more

    # bad input: a readable page, the error at its field, nothing stored
    stored = owner.request("GET", card, headers={"Accept": "text/turtle"}).content
    with signed_in(srv, who) as c:
        fields = form_fields(html(c.get("/.account/profile")), "/.account/profile")
        bad = c.post("/.account/profile", data={**fields, "name": "Amara",
                                                 "links": "not a link"},
                     files={"photo": ("me.gif", b"<svg onload=alert(1)>", "image/gif")})
        page = html(bad, 400)
        assert "starting with https://" in field_error(page, "links")
        assert "PNG, JPEG, GIF or WebP" in field_error(page, "photo")
        assert 'value="Amara"' in page  # what was typed is kept
        assert "<svg onload" not in page
        empty = c.post("/.account/profile", data={**fields, "name": "   "},
                       files={"photo": ("", b"")})
        assert "Write the name" in field_error(html(empty, 400), "name")
    assert owner.request("GET", card, headers={"Accept": "text/turtle"}).content == stored
    assert owner.request("GET", who["pod"] + "profile/photo.gif").status_code == 404

    # removing the photo takes it out of the profile and out of the pod
    with signed_in(srv, who) as c:
        fields = form_fields(html(c.get("/.account/profile")), "/.account/profile")
        r = c.post("/.account/profile", data={**fields, "remove_photo": "yes"},
                   files={"photo": ("", b"")})
        assert r.status_code == 303, r.text
    assert not any(t.predicate.value == VCARD + "hasPhoto" for t in triples(owner, card))
    assert httpx.get(photo, timeout=20).status_code in (401, 404)


def contribution_form(c: httpx.Client, document: str | None = None) -> dict[str, Any]:
    query = {"document": document} if document else {}
    page = html(c.get("/.account/contributions/edit", params=query))
    return form_fields(page, "/.account/contributions/edit")


def test_a_contribution_refused_by_the_shape_shows_why_at_its_fields_and_stores_nothing(
        srv: Server) -> None:
    who = account(srv, "con")
    owner = DPoPClient(srv.base, who)
    container = who["pod"] + "contributions/"
    with signed_in(srv, who) as c:
        assert "You have recorded no contribution yet" in html(c.get("/.account/contributions"))
        fields = contribution_form(c)
        refused = c.post("/.account/contributions/edit", data={
            **fields, "name": "Ran the repair café", "scope": "the repair café",
            "hours": "-2", "beginning": "2025-06-30", "end": "2025-06-01"})
        page = html(refused, 422)
        assert "Nothing was saved" in page
        assert "vf:resourceClassifiedAs" in field_error(page, "kinds")  # no kind ticked
        assert "vf:inScopeOf" in field_error(page, "scope")  # words, not an address
        assert "vf:effortQuantity" in field_error(page, "hours")  # negative
        assert "no later than vf:hasEnd" in field_error(page, "beginning")
        assert 'value="Ran the repair café"' in page  # what was typed is kept
        assert not any(t.predicate.value.endswith("#contains")
                       for t in triples(owner, container))
        no_time = c.post("/.account/contributions/edit", data={
            **fields, "name": "x", "kind": CP + "Code", "scope": "https://x.example/"})
        assert "needs a time" in field_error(html(no_time, 422), "date")

        fixed = c.post("/.account/contributions/edit", data={
            **fields, "name": "Ran the repair café",
            "kind": [CP + "EventOrganising", CP + "CareWork"],
            "scope": "https://riverside.example/repair-cafe#project", "hours": "3.5",
            "date": "2025-05-04", "evidence": "https://riverside.example/notes/2025-05-04"})
        assert fixed.status_code == 303, fixed.text
        assert fixed.headers["location"] == "/.account/contributions?done=added"
        listed = html(c.get(fixed.headers["location"]))
        assert "Contribution added." in listed and "Ran the repair café" in listed
        assert "Organising events" in listed and "Care work" in listed
    [doc] = [t.object.value for t in triples(owner, container)
             if t.predicate.value.endswith("#contains")]
    stored = triples(owner, doc)
    it = ox.NamedNode(doc + "#it")
    kinds = {t.object.value for t in stored if t.subject == it
             and t.predicate.value == VF + "resourceClassifiedAs"}
    assert kinds == {CP + "EventOrganising", CP + "CareWork"}
    assert ox.Triple(it, ox.NamedNode(VF + "provider"), ox.NamedNode(who["webid"])) in stored

    # an app adds a statement the form does not show; editing keeps it
    extra = f"<{doc}#it> <{SCHEMA}url> <https://riverside.example/photos/1> ."
    patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:p a solid:InsertDeletePatch;"
             f" solid:inserts {{ {extra} }}.")
    assert owner.request("PATCH", doc, content=patch.encode(),
                         headers={"Content-Type": "text/n3"}).status_code in (200, 204, 205)
    with signed_in(srv, who) as c:
        fields = contribution_form(c, doc)
        assert fields["name"] == "Ran the repair café" and fields["hours"] == "3.5"
        changed = c.post("/.account/contributions/edit", data={
            **fields, "name": "Ran the repair café in May", "date": "2025-05-04",
            "kind": CP + "EventOrganising"})
        assert changed.status_code == 303, changed.text
        stale = c.post("/.account/contributions/edit", data={
            **fields, "date": "2025-05-04", "kind": CP + "Code"})
        assert "changed meanwhile" in html(stale, 412)  # the form's version is old now
    stored = triples(owner, doc)
    assert ox.Triple(it, ox.NamedNode(SCHEMA + "url"),
                     ox.NamedNode("https://riverside.example/photos/1")) in stored
    names = {t.object.value for t in stored if t.predicate.value == SCHEMA + "name"}
    assert names == {"Ran the repair café in May"}
    assert {t.object.value for t in stored if t.predicate.value == VF + "resourceClassifiedAs"} \
        == {CP + "EventOrganising"}

    with signed_in(srv, who) as c:
        confirm = html(c.get("/.account/contributions/delete", params={"document": doc}))
        assert "Delete this contribution?" in confirm
        fields = form_fields(confirm, "/.account/contributions/delete")
        assert html(c.post("/.account/contributions/delete",
                           data={**fields, "csrf": ""}), 403)
        assert owner.request("GET", doc).status_code == 200
        other = c.get("/.account/contributions/edit",
                      params={"document": who["pod"] + "profile/card"})
        assert "not one of your contributions" in html(other, 400)
        done = c.post("/.account/contributions/delete", data=fields)
        assert done.headers["location"] == "/.account/contributions?done=deleted"
    assert owner.request("GET", doc).status_code == 404


def signed_reward(srv: Server, issuer: str, subject: str, tmp_path: Path,
                  until: datetime | None = None) -> bytes:
    unsigned = reward_statement(
        issuer=issuer, issuer_name="Riverside (as the badge says)", subject=subject,
        achievement_id=issuer.split("/profile/")[0] + "/badges/carer#achievement",
        name="Community carer", description="Looked after the people who keep it going.",
        criteria="Three months of recorded care work.",
        evidence=[{"id": "https://riverside.example/rota#it", "name": "The meal rota"}],
        valid_until=until, credential_id=f"urn:uuid:{uuid.uuid4()}")
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(unsigned), encoding="utf-8")
    return cli("vc", "sign", str(path), data_dir=srv.data_dir).stdout.encode()


def test_statements_received_are_verified_again_and_say_why_not(srv: Server,
                                                                tmp_path: Path) -> None:
    issuer, member = account(srv, "river"), account(srv, "mem")
    with signed_in(srv, issuer) as c:  # the issuer names itself on its profile
        fields = form_fields(html(c.get("/.account/profile")), "/.account/profile")
        assert c.post("/.account/profile", data={**fields, "name": "Riverside Repair Café"},
                      files={"photo": ("", b"")}).status_code == 303
    owner = DPoPClient(srv.base, member)
    lasting = signed_reward(srv, issuer["webid"], member["webid"], tmp_path)
    soon = datetime.now(UTC) + timedelta(seconds=6)
    brief = signed_reward(srv, issuer["webid"], member["webid"], tmp_path, until=soon)
    for name, body in (("lasting", lasting), ("brief", brief)):
        r = owner.request("PUT", member["pod"] + "rewards/" + name, content=body,
                          headers={"Content-Type": "application/ld+json"})
        assert r.status_code == 201, r.text
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 1)
    with signed_in(srv, member) as c:
        page = html(c.get("/.account/statements"))
    items = page.split('<li class="item statement">')[1:]
    assert len(items) == 2
    verified = [i for i in items if "<strong>Verified</strong>" in i]
    expired = [i for i in items if "<strong>Not verified</strong>" in i]
    assert len(verified) == 1 and len(expired) == 1
    assert "expired at" in expired[0]
    for item in items:  # the issuer by its profile's name, the IRI a click away
        assert "Community carer" in item and "The meal rota" in item
        assert f'href="{issuer["webid"]}"' in item
    assert "Riverside Repair Café" in verified[0]
    assert "Riverside (as the badge says)" not in verified[0]


def test_the_log_pages_and_filters_by_person_and_dates(srv: Server) -> None:
    owner, bob, cy = account(srv, "own"), account(srv, "bob"), account(srv, "cy")
    public = owner["pod"] + "profile/card"
    for who, times in ((DPoPClient(srv.base, bob), 57), (DPoPClient(srv.base, cy), 3)):
        for _ in range(times):
            assert who.request("GET", public).status_code == 200
    with signed_in(srv, owner) as c:
        first = html(c.get("/.account/log", params={"kind": "other"}))
        seen = first.count('<li class="entry')
        assert seen == 50
        more = re.search(r'<a href="([^"]+)" rel="next">', first)
        assert more, "no link to older records"
        second = html(c.get(unescape(more.group(1))))
        assert second.count('<li class="entry') == 10
        assert 'rel="next"' not in second and "Back to the newest" in second
        assert 'id="f-person"' in first and bob["webid"] in first  # offered as a filter
        only_cy = html(c.get("/.account/log", params={"kind": "other",
                                                      "person": cy["webid"]}))
        assert only_cy.count('<li class="entry') == 3
        assert bob["webid"] not in only_cy.split('id="log-other"')[1]
        assert f'>{cy["name"]}</a>' in only_cy  # the person by name, the WebID its link
        today = time.strftime("%Y-%m-%d", time.gmtime())
        past = html(c.get("/.account/log", params={"from": "2001-01-01", "to": "2001-01-02"}))
        assert '<li class="entry' not in past and "No access recorded for this filter" in past
        assert html(c.get("/.account/log", params={"from": today, "to": today})).count(
            '<li class="entry') == 50  # the first page of each part: 50 of the others
        assert "must be a date" in html(c.get("/.account/log", params={"to": "May"}), 400)
        bad = c.get("/.account/log", params={"kind": "other", "before": "x"})
        assert "position in the log" in html(bad, 400)
    links = parse_qs(urlsplit(unescape(more.group(1))).query)
    assert links["kind"] == ["other"] and ":" in links["before"][0]

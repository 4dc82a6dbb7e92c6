"""The pod browser (issue #14): a browser asking for a pod URL gets a page, API clients still
get RDF; folders, uploads, the editor and deletes act through the same access decision,
resource service and access log as the API — against live server processes."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
import pytest

from tests.conftest import Server, new_server
from tests.forms import form_fields
from tests.test_accounts import csrf_of
from tests.test_sharing import Person, person, put, share

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TURTLE = b'@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n<#me> foaf:name "Ada Lovelace".\n'
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@pytest.fixture(scope="module")
def two(server: Server) -> Iterator[tuple[Person, Person]]:
    owner, other = person(server, "owner"), person(server, "other")
    yield owner, other
    owner.browser.close()
    other.browser.close()


def view(who: Person | httpx.Client, url: str, **kw: object) -> httpx.Response:
    client = who.browser if isinstance(who, Person) else who
    return client.get(url, headers=BROWSER, **kw)  # type: ignore[arg-type]


def api_get(who: Person, url: str, accept: str = "text/turtle") -> httpx.Response:
    return who.api.request("GET", url, headers={"accept": accept})


def fresh(who: Person, what: str = "t") -> str:
    """A new folder URL in ``who``'s pod, unique to the test (made by the first write)."""
    return f"{who.pod}{what}-{uuid.uuid4().hex[:8]}/"


def token(who: Person) -> str:
    return csrf_of(who.browser.get("/.account/"))


def upload(who: Person, folder: str, files: list[tuple[str, bytes, str]],
           csrf: str | None = None) -> httpx.Response:
    return who.browser.post("/.account/pod/upload", data={
        "csrf": token(who) if csrf is None else csrf, "container": folder},
        files=[("files", (name, data, ctype)) for name, data, ctype in files])


def edit(who: Person, **fields: str) -> httpx.Response:
    return who.browser.post("/.account/pod/edit", data={"csrf": token(who), **fields})


def exists(who: Person, url: str) -> bool:
    status = who.api.request("HEAD", url).status_code
    assert status in (200, 404), status
    return status == 200


def test_a_browser_gets_the_page_and_api_clients_still_get_rdf(
        two: tuple[Person, Person]) -> None:
    owner, _ = two
    doc = fresh(owner) + "card.ttl"
    put(owner, doc, TURTLE, "text/turtle")
    page = view(owner, doc)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"] and "Cookie" in page.headers["vary"]
    text = html.unescape(page.text)
    assert "foaf:name" in text and "Ada Lovelace" in text and "#me" in text
    assert 'href="http://xmlns.com/foaf/0.1/name"' in page.text  # the IRI a click away
    assert "/.account/pod/raw?" in page.text  # the raw source a click away
    for accept in ("text/turtle", "*/*", "application/ld+json", "text/html, text/turtle"):
        got = api_get(owner, doc, accept)
        assert got.status_code == 200, accept
        assert not got.headers["content-type"].startswith("text/html"), accept
    parsed = ox.parse(api_get(owner, doc).content, ox.RdfFormat.TURTLE, base_iri=doc)
    assert any(t.object == ox.Literal("Ada Lovelace") for t in parsed)


def test_a_cookie_alone_never_authorizes_an_api_request(two: tuple[Person, Person]) -> None:
    owner, _ = two
    folder = fresh(owner)
    doc = folder + "private.ttl"
    put(owner, doc, TURTLE, "text/turtle")
    cookie = owner.browser  # signed in
    for accept in ("text/turtle", "application/ld+json", "*/*", "application/json"):
        refused = cookie.get(doc, headers={"accept": accept})
        assert refused.status_code == 401, accept
        assert b"Ada" not in refused.content
    # a cross-origin write with the cookie: the LDP side knows no cookies
    patch = (b"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
             b"_:p a solid:InsertDeletePatch; solid:inserts { <#a> <#b> <#c> }.")
    for method, url, body, ctype in (("PUT", doc, b"<a> <b> <c>.", "text/turtle"),
                                     ("POST", folder, b"<a> <b> <c>.", "text/turtle"),
                                     ("PATCH", doc, patch, "text/n3"),
                                     ("DELETE", doc, b"", "text/turtle")):
        sent = cookie.request(method, url, content=body, headers={
            "content-type": ctype, "origin": "https://evil.example"})
        assert sent.status_code == 401, method
    assert api_get(owner, doc).content == TURTLE
    # … and the pages' forms want their CSRF token, whatever the origin
    for path, fields in (("/.account/pod/folder", {"container": folder, "name": "x"}),
                         ("/.account/pod/edit", {"container": folder, "name": "x.ttl",
                                                 "content_type": "text/turtle",
                                                 "body": "<a> <b> <c>."}),
                         ("/.account/pod/delete", {"resource": doc, "count": "1"})):
        refused = cookie.post(path, data=fields, headers={"origin": "https://evil.example"})
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("text/html")
    assert upload(owner, folder, [("x.txt", b"x", "text/plain")], csrf="").status_code == 403
    assert exists(owner, doc) and not exists(owner, folder + "x/")
    assert not exists(owner, folder + "x.ttl") and not exists(owner, folder + "x.txt")


def test_strangers_sign_in_and_other_accounts_are_refused(server: Server,
                                                          two: tuple[Person, Person]) -> None:
    owner, other = two
    folder = fresh(owner)
    doc = folder + "note.txt"
    put(owner, doc, b"secret words")
    pages = [doc, folder, owner.pod,
             "/.account/pod/raw?" + urlencode({"resource": doc}),
             "/.account/pod/edit?" + urlencode({"resource": doc}),
             "/.account/pod/edit?" + urlencode({"container": folder}),
             "/.account/pod/delete?" + urlencode({"resource": doc})]
    with httpx.Client(base_url=server.base, timeout=20) as stranger:
        for page in pages:
            assert view(owner, page).status_code == 200, page
            theirs = view(other, page)
            assert theirs.status_code == 403, page
            assert theirs.headers["content-type"].startswith("text/html")
            assert "secret words" not in theirs.text
            anonymous = view(stranger, page)
            assert anonymous.status_code == 303, page
            assert anonymous.headers["location"].startswith("/.account/login?return_to=")
    signed_in_only = ["/.account/", "/.account/pod/edit?" + urlencode({"container": folder})]
    with httpx.Client(base_url=server.base, timeout=20) as stranger:
        for page in signed_in_only:
            assert view(stranger, page).status_code == 303


def test_folders_walk_with_breadcrumbs(two: tuple[Person, Person]) -> None:
    owner, _ = two
    top = fresh(owner, "walk")
    put(owner, top + "readme.txt", b"hello")
    made = owner.browser.post("/.account/pod/folder", data={
        "csrf": token(owner), "container": top, "name": "Photos 2025"})
    assert made.status_code == 303 and made.headers["location"] == top + "Photos%202025/"
    listing = view(owner, top)
    assert "Photos 2025" in listing.text and "readme.txt" in listing.text
    assert f'href="{top}Photos%202025/"' in listing.text
    inner = view(owner, top + "Photos%202025/")
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', inner.text, re.S)
    assert crumbs, "breadcrumbs"
    links = re.findall(r'href="([^"]+)"[^>]*>([^<]+)<', crumbs[0])
    assert links == [(owner.pod, owner.name), (top, top.rstrip("/").rsplit("/", 1)[1]),
                     (top + "Photos%202025/", "Photos 2025")]
    assert 'aria-current="page"' in crumbs[0]
    turtle = api_get(owner, top)  # the API sees the same folder
    assert f"<{top}Photos%202025/>".encode() in turtle.content
    again = owner.browser.post("/.account/pod/folder", data={
        "csrf": token(owner), "container": top, "name": "Photos 2025"})
    assert again.status_code == 409 and "exists already" in again.text


def test_several_files_upload_at_once_and_preview(two: tuple[Person, Person]) -> None:
    owner, _ = two
    folder = fresh(owner, "up")
    done = upload(owner, folder, [("notes.txt", "été\n".encode(), "text/plain"),
                                  ("dot.png", PNG, "image/png"),
                                  ("paper.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")])
    assert done.status_code == 303 and done.headers["location"] == folder + "?uploaded=3"
    assert "3 files uploaded" in view(owner, done.headers["location"]).text
    assert owner.api.request("GET", folder + "dot.png").content == PNG
    assert owner.api.request("GET", folder + "notes.txt").content == "été\n".encode()
    text = view(owner, folder + "notes.txt")
    assert "<pre" in text.text and "été" in text.text
    image = view(owner, folder + "dot.png")
    raw = "/.account/pod/raw?" + urlencode({"resource": folder + "dot.png"})
    assert f'<img src="{html.escape(raw)}"' in image.text
    got = owner.browser.get(raw)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-security-policy"].startswith("sandbox")
    assert got.headers["cache-control"] == "no-store"
    pdf = view(owner, folder + "paper.pdf")
    assert "<iframe" in pdf.text and "frame-src 'self'" in pdf.headers["content-security-policy"]
    plain = owner.browser.get("/.account/pod/raw?" + urlencode({"resource": folder + "notes.txt"}))
    assert plain.headers["content-type"].startswith("text/plain")
    download = owner.browser.get("/.account/pod/raw?" + urlencode(
        {"resource": folder + "notes.txt", "download": "1"}))
    assert download.headers["content-disposition"].startswith("attachment")


def test_bad_uploads_show_a_page_and_store_nothing(two: tuple[Person, Person]) -> None:
    owner, _ = two
    folder = fresh(owner, "bad")
    put(owner, folder + "taken.txt", b"first")
    cases = [
        [("ok.txt", b"fine", "text/plain"), ("taken.txt", b"second", "text/plain")],
        [("ok.txt", b"fine", "text/plain"), ("broken.ttl", b"<a> <b>\n<c> <d", "text/turtle")],
        [("ok.txt", b"fine", "text/plain"), (".acl", b"<#x> <#y> <#z>.", "text/turtle")],
        [("ok.txt", b"fine", "text/plain"), ("x.meta", b"", "text/turtle")],
        [("ok.txt", b"fine", "text/plain"), ("ok.txt", b"twice", "text/plain")],
        [("../escape.txt", b"up", "text/plain"), ("..", b"up", "text/plain")],
    ]
    for files in cases:
        refused = upload(owner, folder, files)
        assert 400 <= refused.status_code < 500, files
        assert refused.headers["content-type"].startswith("text/html")
        assert "Traceback" not in refused.text
    assert not exists(owner, folder + "ok.txt") and not exists(owner, folder + "broken.ttl")
    assert not exists(owner, folder + "escape.txt") and not exists(owner, owner.pod + "escape.txt")
    assert owner.api.request("GET", folder + "taken.txt").content == b"first"
    acl = owner.api.request("GET", folder + ".acl")
    assert acl.status_code == 404  # no ACL was written by an upload named .acl
    elsewhere = upload(owner, "https://elsewhere.example/x/", [("a.txt", b"a", "text/plain")])
    assert elsewhere.status_code == 400


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server taking bodies of at most 100,000 bytes and pods of at most 400,000."""
    srv = new_server(Path(tmp_path_factory.mktemp("small")))
    srv.env = {"COMMONPOD_MAX_BODY_BYTES": "100000", "COMMONPOD_MAX_POD_BYTES": "400000"}
    srv.start()
    yield srv
    srv.stop()


def test_too_large_uploads_are_refused_whole(small: Server) -> None:
    owner = person(small, "big")
    try:
        folder = fresh(owner)
        binary = "application/octet-stream"
        refused = upload(owner, folder, [("small.txt", b"s", "text/plain"),
                                         ("large.bin", b"x" * 100_001, binary)])
        assert refused.status_code == 400 and "100,000 bytes" in refused.text
        too_much = upload(owner, folder, [("f1.bin", b"y" * 90_000, binary),
                                          ("f2.bin", b"y" * 90_000, binary)])
        assert too_much.status_code == 413 and too_much.headers["content-type"].startswith(
            "text/html")
        for i in range(20):  # up to the pod's quota: the upload that passes it is taken back
            done = upload(owner, folder, [(f"q{i}a.bin", b"z" * 30_000, binary),
                                          (f"q{i}b.bin", b"z" * 60_000, binary)])
            if done.status_code != 303:
                assert done.status_code == 507 and "Nothing of this upload" in done.text
                assert exists(owner, folder + f"q{i - 1}b.bin")
                assert not exists(owner, folder + f"q{i}a.bin")
                break
        else:
            raise AssertionError("the quota never applied")
        assert not exists(owner, folder + "small.txt")
    finally:
        owner.browser.close()


def test_the_editor_shows_syntax_errors_at_their_line_and_stores_nothing(
        two: tuple[Person, Person]) -> None:
    owner, _ = two
    folder = fresh(owner, "ed")
    put(owner, folder + "keep.txt", b"keep")
    form = view(owner, "/.account/pod/edit?" + urlencode({"container": folder}))
    assert form.status_code == 200
    assert form_fields(form.text, "/.account/pod/edit")["container"] == folder
    bad = ("@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n\n<#me> foaf:name \"Ada\" ;\n"
           "  foaf:nick .\n")
    refused = edit(owner, container=folder, name="me.ttl", content_type="text/turtle", body=bad)
    assert refused.status_code == 400
    line = re.search(r"Line (\d+):", refused.text)
    assert line and line[1] == "4", refused.text
    assert "foaf:nick ." in html.unescape(refused.text)  # the line itself, and the text kept
    assert 'aria-invalid="true"' in refused.text
    assert not exists(owner, folder + "me.ttl")
    made = edit(owner, container=folder, name="me.ttl", content_type="text/turtle",
                body=TURTLE.decode())
    assert made.status_code == 303 and made.headers["location"] == folder + "me.ttl?saved=1"
    assert api_get(owner, folder + "me.ttl").content == TURTLE
    # editing: the form carries the text and the version it was read at
    opened = form_fields(view(owner, "/.account/pod/edit?" + urlencode(
        {"resource": folder + "me.ttl"})).text, "/.account/pod/edit")
    assert opened["etag"] and opened["content_type"] == "text/turtle"
    changed = TURTLE.decode().replace("Ada Lovelace", "Ada King")
    saved = edit(owner, **{**opened, "body": changed})
    assert saved.status_code == 303
    assert b"Ada King" in api_get(owner, folder + "me.ttl").content
    stale = edit(owner, **{**opened, "body": TURTLE.decode()})  # the old version's etag
    assert stale.status_code == 409 and "changed since you opened it" in stale.text
    assert b"Ada King" in api_get(owner, folder + "me.ttl").content
    text = edit(owner, container=folder, name="todo.txt", content_type="text/plain",
                body="milk\r\neggs\r\n")
    assert text.status_code == 303
    assert owner.api.request("GET", folder + "todo.txt").content == b"milk\neggs\n"
    for name in ("", "..", "a/b", ".acl", "keep.txt.acl", "x.meta", "keep.txt"):
        refused = edit(owner, container=folder, name=name, content_type="text/plain", body="x")
        assert refused.status_code in (400, 409), name
    assert owner.api.request("GET", folder + "keep.txt").content == b"keep"
    assert owner.api.request("GET", folder + "keep.txt.acl").status_code == 404


def test_a_folder_is_deleted_recursively_after_listing_what_goes(
        two: tuple[Person, Person]) -> None:
    owner, _ = two
    folder = fresh(owner, "del")
    files = [folder + "a.txt", folder + "sub/b.txt", folder + "sub/deeper/c.txt"]
    for url in files:
        put(owner, url, b"x")
    confirm = view(owner, "/.account/pod/delete?" + urlencode({"resource": folder}))
    assert confirm.status_code == 200
    name = folder.rstrip("/").rsplit("/", 1)[1]
    going = re.findall(r'<li class="iri">([^<]+)</li>', confirm.text)
    assert set(going) == {f"{name}/a.txt", f"{name}/sub/b.txt", f"{name}/sub/deeper/c.txt",
                          f"{name}/sub/deeper/", f"{name}/sub/", f"{name}/"}
    fields = form_fields(confirm.text, "/.account/pod/delete")
    assert fields["count"] == "6"
    put(owner, folder + "late.txt", b"added after the confirmation")
    changed = owner.browser.post("/.account/pod/delete", data=fields)
    assert changed.status_code == 409
    assert all(exists(owner, url) for url in [*files, folder + "late.txt"])
    fields = form_fields(view(owner, "/.account/pod/delete?" + urlencode(
        {"resource": folder})).text, "/.account/pod/delete")
    done = owner.browser.post("/.account/pod/delete", data=fields)
    assert done.status_code == 303 and done.headers["location"] == owner.pod + "?deleted=7"
    assert not any(exists(owner, url) for url in [*files, folder])
    root = view(owner, "/.account/pod/delete?" + urlencode({"resource": owner.pod}))
    assert root.status_code == 400 and "delete your account" in root.text


def test_others_act_through_wac_and_the_owner_sees_them_in_the_log(
        server: Server, two: tuple[Person, Person]) -> None:
    owner, other = two
    folder = fresh(owner, "shared")
    doc = folder + "plan.txt"
    put(owner, doc, b"the plan")
    assert view(other, doc).status_code == 403
    assert share(owner, doc, "person", other.webid, "read").status_code == 303
    seen = view(other, doc)
    assert seen.status_code == 200 and "the plan" in seen.text
    assert "/.account/pod/edit?" not in seen.text  # no Edit offered without Write
    opened = form_fields(view(owner, "/.account/pod/edit?" + urlencode(
        {"resource": doc})).text, "/.account/pod/edit")
    refused = other.browser.post("/.account/pod/edit", data={
        **opened, "csrf": token(other), "body": "changed"})
    assert refused.status_code == 403
    assert owner.api.request("GET", doc).content == b"the plan"
    log = owner.api.request("GET", server.base + ".api/log", params={"pod": owner.name})
    records = [(r["agent"], r["method"], r["target"], r["status"])
               for r in log.json()["records"]]
    assert (other.webid, "GET", doc, 200) in records
    assert (other.webid, "PUT", doc, 403) in records


def test_a_shaped_container_refuses_a_bad_document_in_the_editor(
        two: tuple[Person, Person]) -> None:
    owner, _ = two
    contributions = owner.pod + "contributions/"
    refused = edit(owner, container=contributions, name="c.ttl", content_type="text/turtle",
                   body="<#c> a <https://commonpod.org/ns#Contribution>.")
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert not exists(owner, contributions + "c.ttl")


def test_a_web_page_kept_in_a_pod_opens_as_itself(server: Server, http: httpx.Client,
                                                  pub: str) -> None:
    page = b"<!doctype html><title>Mine</title><p>hello <script>alert(1)</script></p>"
    assert http.put(pub + "index.html", content=page,
                    headers={"content-type": "text/html"}).status_code == 201
    itself = http.get(pub + "index.html", headers=BROWSER)
    assert itself.status_code == 200 and itself.content == page
    assert itself.headers["content-security-policy"].startswith("sandbox")
    shown = http.get(pub + "index.html?view", headers=BROWSER)
    assert shown.status_code == 200 and "<pre" in shown.text
    assert "&lt;script&gt;alert(1)" in shown.text and "<script>alert" not in shown.text
    listing = http.get(pub, headers=BROWSER)
    assert f'href="{server.base}{pub[1:]}index.html?view"' in listing.text

"""Export and import of whole pods (issue #14): the archive a browser downloads (streamed with
its length, a manifest with checksums), imported on a second server from the page and the
command line while the servers run, compared resource by resource (checksums, RDF
isomorphism with the pod's IRIs moved); and archives that are damaged, foreign or hostile,
refused with nothing written."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import stat
import uuid
import warnings
import zipfile
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from tests.conftest import Server, cli, new_server
from tests.dpop import DPoPClient
from tests.test_accounts import csrf_of, login, signup

PASSWORD = "a long enough password"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") \
    + bytes(range(256)) * 8
SIGNED = json.dumps({"@context": {"@vocab": "https://schema.org/"}, "@id": "",
                     "name": "kept byte for byte", "proof": {"note": "signed"}},
                    indent=1).encode()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def browser_of(srv: Server, name: str) -> httpx.Client:
    c = httpx.Client(base_url=srv.base, timeout=60)
    assert login(c, name, PASSWORD).status_code == 303
    return c


def fill(api: DPoPClient, pod: str) -> None:
    """A pod with a bit of everything: documents with relative and absolute IRIs of the pod,
    signed JSON-LD, binaries, nested folders, an ACL and a description."""
    for path, body, ctype in [
        ("notes/hello.ttl", b"<#it> <http://schema.org/name> \"hi\"; "
                            b"<http://schema.org/about> <../pics/dot.png>.", "text/turtle"),
        ("notes/absolute.ttl", f"<{pod}notes/absolute.ttl#x> <http://schema.org/url> "
                               f"<{pod}pics/dot.png>, <https://elsewhere.example/y>; "
                               f"<http://schema.org/text> \"{pod}\".".encode(), "text/turtle"),
        ("notes/blank.ttl", b"[] <http://schema.org/name> \"anon\"; <http://schema.org/x> [ "
                            b"<http://schema.org/y> <./hello.ttl> ].", "text/turtle"),
        ("signed.jsonld", SIGNED, "application/ld+json"),
        ("pics/dot.png", PNG, "image/png"),
        ("pics/readme.txt", "caf\u00e9 \u2615".encode(), "text/plain; charset=utf-8"),
        ("deep/er/still/empty.txt", b"", "text/plain"),
        ("notes/hello.ttl.meta", b"<hello.ttl> <http://purl.org/dc/terms/title> \"Hello\".",
         "text/turtle"),
        ("pics/.acl", f"<#o> a <http://www.w3.org/ns/auth/acl#Authorization>; "
                      f"<http://www.w3.org/ns/auth/acl#agent> <{pod}profile/card#me>; "
                      f"<http://www.w3.org/ns/auth/acl#accessTo> <./>; "
                      f"<http://www.w3.org/ns/auth/acl#default> <./>; "
                      f"<http://www.w3.org/ns/auth/acl#mode> "
                      f"<http://www.w3.org/ns/auth/acl#Read>, "
                      f"<http://www.w3.org/ns/auth/acl#Write>, "
                      f"<http://www.w3.org/ns/auth/acl#Control>.\n"
                      f"<#p> a <http://www.w3.org/ns/auth/acl#Authorization>; "
                      f"<http://www.w3.org/ns/auth/acl#agentClass> "
                      f"<http://xmlns.com/foaf/0.1/Agent>; "
                      f"<http://www.w3.org/ns/auth/acl#default> <./>; "
                      f"<http://www.w3.org/ns/auth/acl#mode> "
                      f"<http://www.w3.org/ns/auth/acl#Read>.".encode(), "text/turtle"),
    ]:
        done = api.request("PUT", pod + path, content=body, headers={"Content-Type": ctype})
        assert done.status_code in (201, 204), (path, done.text)
    made = api.request("PUT", pod + "empty-folder/", headers={"Content-Type": "text/turtle"})
    assert made.status_code == 201


def members(archive: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
    return json.loads(files["manifest.json"]), files


def by_path(manifest: dict, files: dict[str, bytes]) -> dict[str, tuple[dict, bytes]]:
    return {e["path"]: (e, files[e["file"]]) for e in manifest["resources"]}


def graph(body: bytes, fmt: str, url: str, move: tuple[str, str] | None = None) -> Graph:
    g = Graph().parse(data=body, format=fmt, publicID=url)
    if move is None:
        return g
    old, new = move
    out = Graph()
    for triple in g:
        out.add(tuple(URIRef(new + t[len(old):]) if isinstance(t, URIRef) and t.startswith(old)
                      else t for t in triple))
    return out


def export_from_page(c: httpx.Client) -> httpx.Response:
    token = csrf_of(c.get("/.account/export"))
    return c.post("/.account/export", data={"csrf": token})


def import_from_page(c: httpx.Client, archive: bytes) -> httpx.Response:
    token = csrf_of(c.get("/.account/import"))
    return c.post("/.account/import", data={"csrf": token},
                  files={"archive": ("pod.zip", archive, "application/zip")})


def test_a_pod_exported_from_the_page_imports_on_another_server_exactly(
        server: Server, tmp_path: Path) -> None:
    name = unique("move")
    made = server.create_account(name)
    api, pod = DPoPClient(server.base, made), made["pod"]
    fill(api, pod)
    assert httpx.get(pod + "pics/dot.png").status_code == 200  # an access for the log
    c = browser_of(server, name)
    try:
        assert "Download my pod" in c.get("/.account/export").text
        assert c.post("/.account/export", data={}).status_code == 403  # no CSRF token
        download = export_from_page(c)
    finally:
        c.close()
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    assert int(download.headers["content-length"]) == len(download.content)
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    manifest, files = members(download.content)
    assert manifest["pod"] == pod and manifest["version"] == 1
    for entry in manifest["resources"]:
        assert hashlib.sha256(files[entry["file"]]).hexdigest() == entry["sha256"]
    exported = by_path(manifest, files)
    assert exported["/pics/dot.png"][1] == PNG
    assert exported["/signed.jsonld"][1] == SIGNED
    assert exported["/pics/readme.txt"][0]["content_type"] == "text/plain; charset=utf-8"
    assert {"/empty-folder/", "/deep/er/", "/pics/.acl", "/notes/hello.ttl.meta",
            "/grants/.acl", "/profile/card"} <= set(exported)
    days = [f for f in manifest["files"] if f["kind"] == "access-log"]
    assert days and any(r["target"] == pod + "pics/dot.png"
                        for d in days for r in json.loads(files[d["file"]])["records"])

    other = new_server(tmp_path).start()
    try:
        carol = unique("carol")
        with httpx.Client(base_url=other.base, timeout=60) as c:
            assert signup(c, carol, PASSWORD).status_code == 303
            assert 'type="file"' in c.get("/.account/import").text
            done = import_from_page(c, download.content)
            assert done.status_code == 303, done.text
            assert f"resources={len(manifest['resources'])}" in done.headers["location"]
            assert "Imported" in c.get(done.headers["location"]).text
            again = c.get("/.account/import").text
            assert 'type="file"' not in again and "already holds" in again
        new_pod = f"{other.base}{carol}/"
        out = tmp_path / "again.zip"
        cli("pod", "export", carol, str(out), data_dir=other.data_dir)  # while it runs
        manifest2, files2 = members(out.read_bytes())
        imported = by_path(manifest2, files2)
        assert set(imported) == set(exported)
        for path, (entry, body) in exported.items():
            entry2, body2 = imported[path]
            assert (entry2["kind"], entry2["content_type"]) == (entry["kind"],
                                                                entry["content_type"]), path
            assert entry2["modified"] == pytest.approx(entry["modified"]), path
            if entry["kind"] == "binary" or entry["content_type"] == "application/ld+json":
                assert body2 == body and entry2["sha256"] == entry["sha256"], path
            else:
                before = graph(body, "turtle", pod + path[1:], (pod, new_pod))
                after = graph(body2, "turtle", new_pod + path[1:])
                if path == "/profile/card":  # the WebID's issuer is now this server
                    issuer = URIRef("http://www.w3.org/ns/solid/terms#oidcIssuer")
                    me = URIRef(new_pod + "profile/card#me")
                    before.remove((me, issuer, URIRef(server.base)))
                    before.add((me, issuer, URIRef(other.base)))
                assert isomorphic(before, after), path
        assert exported["/notes/hello.ttl"][1] == imported["/notes/hello.ttl"][1]  # relative
        assert pod.encode() not in imported["/notes/absolute.ttl"][1].split(b'"')[0]
        assert f'"{pod}"'.encode() in imported["/notes/absolute.ttl"][1]  # literals kept
        owner = DPoPClient(other.base, json.loads(cli(
            "credentials", "create", carol, data_dir=other.data_dir).stdout))
        assert owner.request("GET", new_pod + "pics/dot.png").content == PNG
        assert owner.request("GET", new_pod + "signed.jsonld").content == SIGNED
        assert httpx.get(new_pod + "pics/readme.txt").status_code == 200  # the ACL came too
        assert httpx.get(new_pod + "notes/hello.ttl").status_code == 401
    finally:
        other.stop()


def test_the_command_line_imports_as_a_new_pod_while_the_server_runs(
        server: Server, tmp_path: Path) -> None:
    name = unique("cli")
    made = server.create_account(name)
    fill(DPoPClient(server.base, made), made["pod"])
    archive = tmp_path / "pod.zip"
    done = json.loads(cli("pod", "export", name, str(archive), data_dir=server.data_dir).stdout)
    assert done["bytes"] == archive.stat().st_size and archive.stat().st_mode & 0o777 == 0o600
    refused = cli("pod", "export", name, str(archive), data_dir=server.data_dir, check=False)
    assert refused.returncode == 1 and "never overwrites" in refused.stderr
    copy = unique("copy")
    made2 = json.loads(cli("pod", "import", copy, str(archive), data_dir=server.data_dir).stdout)
    assert made2["pod"] == f"{server.base}{copy}/" and made2["resources"] == done["resources"]
    card = httpx.get(f"{server.base}{copy}/profile/card", headers={"Accept": "text/turtle"})
    assert card.status_code == 200 and f"{server.base}{copy}/profile/card#me" in card.text
    assert httpx.get(f"{server.base}{copy}/pics/dot.png").content == PNG
    taken = cli("pod", "import", name, str(archive), data_dir=server.data_dir, check=False)
    assert taken.returncode == 1 and "holds more than a new pod" in taken.stderr


# --- hostile archives ---------------------------------------------------------------------

def rebuild(archive: bytes, *, drop: tuple[str, ...] = (),
            replace: dict[str, bytes] | None = None, add: list[tuple[zipfile.ZipInfo | str,
                                                                      bytes]] | None = None,
            manifest: dict | None = None, compress: int = zipfile.ZIP_STORED) -> bytes:
    """The archive with files dropped, replaced or added (and another manifest)."""
    _, files = members(archive)
    if manifest is not None:
        files["manifest.json"] = json.dumps(manifest).encode()
    files.update(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        for name, data in files.items():
            if name not in drop:
                z.writestr(name, data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: we mean it
            for info, data in add or []:
                z.writestr(info, data)
    return out.getvalue()


def records(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "commonpod.db") as db:
        return db.execute("SELECT count(*) FROM records").fetchone()[0] + \
            db.execute("SELECT count(*) FROM pods").fetchone()[0]


def hostile(good: bytes) -> dict[str, bytes]:
    manifest, _ = members(good)
    entry = next(e for e in manifest["resources"] if e["path"] == "/pics/dot.png")
    damaged = bytearray(good)
    at = good.index(PNG[40:80])
    damaged[at + 5] ^= 0xFF
    edited = json.loads(json.dumps(manifest))
    edited["resources"][-1]["path"] = "/../../etc/passwd"
    orphan = json.loads(json.dumps(manifest))
    orphan["resources"] = [e for e in orphan["resources"] if e["path"] != "/pics/"]
    traversal = json.loads(json.dumps(manifest))
    traversal["resources"][-1]["file"] = "../" + traversal["resources"][-1]["file"]
    foreign = json.loads(json.dumps(manifest))
    foreign["format"] = "something-else"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("pod/bomb", b"\0" * (64 * 1024 * 1024))
    link = zipfile.ZipInfo("pod/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return {
        "not a zip": b"PK\x03\x04 this is no zip at all",
        "damaged": bytes(damaged),
        "no manifest": rebuild(good, drop=("manifest.json",)),
        "foreign": rebuild(good, manifest=foreign),
        "unknown version": rebuild(good, manifest={**manifest, "version": 99}),
        "path traversal": rebuild(good, manifest=edited),
        "name traversal": rebuild(good, manifest=traversal,
                                  add=[(traversal["resources"][-1]["file"], b"x")]),
        "parent missing": rebuild(good, manifest=orphan),
        "checksum": rebuild(good, replace={entry["file"]: PNG[::-1]}),
        "extra file": rebuild(good, add=[("pod/stowaway", b"x")]),
        "duplicate": rebuild(good, add=[(entry["file"], PNG)]),
        "symlink": rebuild(good, add=[(link, b"/etc/passwd")]),
        "zip bomb": bomb.getvalue(),
        "huge entry": rebuild(good, replace={entry["file"]: PNG * 2000}, manifest={
            **manifest, "resources": [dict(e, size=len(PNG) * 2000) if e is entry else e
                                      for e in manifest["resources"]]}),
    }


def test_damaged_foreign_and_hostile_archives_are_refused_with_nothing_written(
        tmp_path: Path) -> None:
    srv = new_server(tmp_path)
    name = "source"
    made = json.loads(cli("account", "create", name, "--password-file", "-",
                          data_dir=srv.data_dir, input=PASSWORD + "\n").stdout)
    srv.start()
    try:
        fill(DPoPClient(srv.base, {**made, **json.loads(cli(
            "credentials", "create", name, data_dir=srv.data_dir).stdout)}), made["pod"])
        good = tmp_path / "good.zip"
        cli("pod", "export", name, str(good), data_dir=srv.data_dir)
    finally:
        srv.stop()
    before = records(srv.data_dir)
    small = {"COMMONPOD_MAX_BODY_BYTES": "100000"}  # smaller than the "huge entry"
    for why, archive in hostile(good.read_bytes()).items():
        path = tmp_path / "bad.zip"
        path.write_bytes(archive)
        done = cli("pod", "import", "target", str(path), data_dir=srv.data_dir, check=False,
                   env=small)
        assert done.returncode == 1, why
        assert "nothing was written" in done.stderr and done.stderr.count("\n") == 1, \
            (why, done.stderr)
        assert "Traceback" not in done.stderr
        assert records(srv.data_dir) == before, why
    assert cli("pod", "import", "target", str(good), data_dir=srv.data_dir,
               env=small).returncode == 0  # the same command takes the good one


def test_a_damaged_archive_sent_to_the_page_is_refused_and_the_pod_stays_new(
        server: Server) -> None:
    name = unique("page")
    with httpx.Client(base_url=server.base, timeout=60) as c:
        assert signup(c, name, PASSWORD).status_code == 303
        refused = import_from_page(c, b"PK\x03\x04 not really")
        assert refused.status_code == 422 and "nothing was written" in refused.text
        assert 'role="alert"' in refused.text
        assert 'type="file"' in c.get("/.account/import").text  # still new
        token = csrf_of(c.get("/.account/import"))
        no_csrf = c.post("/.account/import", data={"csrf": "x" + token},
                         files={"archive": ("pod.zip", b"x", "application/zip")})
        assert no_csrf.status_code == 403
        empty = c.post("/.account/import", data={"csrf": token},
                       files={"archive": ("pod.zip", b"", "application/zip")})
        assert empty.status_code == 400
    card = httpx.get(f"{server.base}{name}/profile/card", headers={"Accept": "text/turtle"})
    assert card.status_code == 200 and f'"{name}"' in card.text

"""How the fuzz test (tests/test_fuzz.py) reaches each route: for every (path, method) of the
server, a Hypothesis strategy of :class:`~tests.fuzz_client.Call` made from a valid request by
a few edits — who calls, its query, headers and body. ``RECIPES`` must name every route the
running app has; tests/test_fuzz.py fails when one is missing."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from tests import fuzz_inputs as fi
from tests.fuzz_client import Call, Cast
from tests.fuzz_inputs import Live, Pairs, edited

LDP = "/{pod}/{path}"
Recipe = Callable[[Cast], st.SearchStrategy[Call]]
NEEDS = [{"id": "contributions", "class": "cp:Contribution", "modes": ["read"],
          "purpose": "dpv:ServiceProvision", "duration": "P90D",
          "description": "Show your contributions on the board."}]
#: segments the fuzzer may touch ("stable/" is kept for the no-change-on-error test)
KNOWN = ["known", "doc.ttl", "c", "contributions", "c1", "profile", "card", "settings",
         "prefs.ttl", "grants", "public", ".acl", ".meta", "doc.ttl.acl", "x.jsonld", "b.bin",
         "new", "publicTypeIndex.ttl", "privateTypeIndex.ttl"]
PROOFS = ("proof", "bare-proof", "proof-wrong-method", "proof-wrong-url", "proof-old",
          "proof-future", "proof-other-key", "proof-replayed")
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B


def registration(redirect: str) -> dict[str, Any]:
    """Valid client metadata (RFC 7591 §2) with the apps API's extensions."""
    return {"redirect_uris": [redirect], "client_name": "Fuzz app",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "none", "scope": "openid webid offline_access",
            "access_needs": NEEDS, "grant_webhook": fi.NOWHERE + "hook",
            "client_uri": "http://127.0.0.1:9", "logo_uri": fi.NOWHERE + "logo.png",
            "contacts": ["a@example.org"], "application_type": "web"}


# --- who calls, and how -------------------------------------------------------------------

def who(*names: str, forged: bool = True) -> st.SearchStrategy[str]:
    """One of ``names``; now and then a token with odd claims, signed with the real key."""
    usual = st.sampled_from(names)
    if not forged:
        return usual
    return fi.mostly(usual, st.integers(0, 7).map(lambda i: f"forged:{i}"), 9)


def _visible(data: bytes) -> str:
    """Bytes as header text (no control characters)."""
    return "".join(chr(b) for b in data if 0x20 <= b <= 0xFF and b != 0x7F)


def credentials(cast: Cast) -> st.SearchStrategy[dict[str, str | Live]]:
    """Authorization, DPoP and Cookie headers that are wrong in the ways that matter: a
    token without its proof or with a stale, replayed or misdirected one, mangled tokens."""
    token = cast.owner_dpop.token
    auth = st.one_of(
        st.sampled_from([Live("basic"), "DPoP", "Bearer x", "DPoP a.b.c", "Basic Og==",
                         "Basic !!", "Basic " + base64.b64encode(b"\xff:\xfe").decode(),
                         f"DPoP {token}", f"Bearer {token}", f"dpop  {token}"]),
        fi.mutated([f"DPoP {token}".encode()], most=2).map(_visible), fi.header_text())
    proof = st.one_of(st.sampled_from([Live(p) for p in PROOFS]), fi.header_text(),
                      st.just("a.b.c"))
    cookie = st.sampled_from(["cp_session=" + "A" * 43, "cp_session=", "cp_csrf=x",
                              "cp_session=%ff; cp_session=x", "=;=", "cp_csrf=" + "a" * 40])
    return st.fixed_dictionaries({}, optional={"authorization": auth, "dpop": proof,
                                               "cookie": cookie})


@st.composite
def headers(draw: st.DrawFn, cast: Cast, names: tuple[str, ...] = ("accept", "origin"),
            etags: tuple[str | Live, ...] = ()) -> tuple[tuple[str, str | Live], ...]:
    """Some of the headers ``names`` (mostly sensible values); now and then, odd
    credentials over those of the caller."""
    found: dict[str, str | Live] = dict(draw(fi.HeaderPools(etags).strategy(names)))
    if draw(st.integers(0, 9)) == 0:
        found.update(draw(credentials(cast)))
    return tuple(found.items())


def call(method: str | st.SearchStrategy[str], target: st.SearchStrategy[str],
         caller: st.SearchStrategy[str], head: st.SearchStrategy[Any],
         body: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Call]:
    methods = st.just(method) if isinstance(method, str) else method
    return st.builds(Call, methods, target, caller, head, st.just(b"") if body is None else body)


def at(path: str, params: st.SearchStrategy[Pairs] | None = None) -> st.SearchStrategy[str]:
    return fi.query(params).map(lambda q: path + q)


def with_header(calls: st.SearchStrategy[Call],
                more: st.SearchStrategy[tuple[tuple[str, Any], ...]]) -> st.SearchStrategy[Call]:
    return st.builds(lambda c, h: Call(c.method, c.target, c.who, (*c.headers, *h), c.body),
                     calls, more)


# --- the LDP edge -------------------------------------------------------------------------

PAYLOADS = {  # what a body is, and the Content-Types that fit it
    "turtle": ("text/turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("application/ld+json",), "ntriples": ("application/n-triples",),
    "n3patch": ("text/n3",), "sparql": ("application/sparql-update",),
    "binary": ("application/octet-stream", "image/png", "text/plain"),
    "deep": ("application/ld+json", "application/json"), "empty": ("text/turtle",),
}


@st.composite
def payload(draw: st.DrawFn, cast: Cast, kinds: tuple[str, ...]
            ) -> tuple[tuple[tuple[str, str], ...], bytes]:
    """A Content-Type header and a body; the type mostly fits the body."""
    kind = draw(st.sampled_from(kinds))
    owner = cast.owner["webid"].encode()
    seeds = {"turtle": [s.replace(b"OWNER", owner) for s in (fi.TURTLE, fi.ACL,
                                                             fi.CONTRIBUTION)],
             "jsonld": [fi.JSON_LD, fi.JSON_LD_VC], "ntriples": [fi.NTRIPLES],
             "n3patch": [fi.N3_PATCH, fi.N3_MORE], "sparql": [fi.SPARQL, fi.SPARQL_MORE]}
    if kind in seeds:
        body = draw(fi.mutated(seeds[kind]))
    elif kind == "binary":
        body = draw(st.binary(max_size=300))
    elif kind == "deep":
        body = draw(fi.deep())
    else:
        body = b""
    ctype = draw(fi.mostly(st.sampled_from(PAYLOADS[kind]), st.sampled_from(fi.CONTENT_TYPES)))
    return (("content-type", ctype),) if ctype or draw(st.booleans()) else (), body


def ldp(method: str) -> Recipe:
    """A pod resource: real ones most often, else odd paths; the owner's token mostly."""
    writes = {"PUT": ("turtle", "jsonld", "ntriples", "binary", "deep", "empty"),
              "POST": ("turtle", "jsonld", "binary", "deep", "empty"),
              "PATCH": ("n3patch", "sparql", "n3patch", "sparql", "turtle", "empty")}
    names = {"PUT": ("accept", "if-match", "if-none-match", "origin"),
             "POST": ("slug", "link", "accept", "origin"),
             "PATCH": ("if-match", "if-none-match", "accept"),
             "DELETE": ("if-match", "if-none-match"),
             "OPTIONS": ("origin", "access-control-request-headers", "accept"),
             }.get(method, ("accept", "if-match", "if-none-match", "origin", "range"))

    def recipe(cast: Cast) -> st.SearchStrategy[Call]:
        name = cast.owner["name"]
        real = [f"/{name}/known/doc.ttl", f"/{name}/known/", f"/{name}/", f"/{name}/new.ttl",
                f"/{name}/profile/card", f"/{name}/settings/prefs.ttl",
                f"/{name}/contributions/c1", f"/{name}/known/doc.ttl.acl", "/pub/", "/pub/x"]
        pods = [name, "pub", cast.spare["name"], "nope"]
        path = fi.mostly(st.sampled_from(real), fi.pod_path(pods, KNOWN), 6)
        target = st.builds(lambda p, q: p + q, path, fi.mostly(st.just(""), fi.query(), 9))
        caller = who("owner", "owner", "owner", "owner", "anon", "anon", "other", "session")
        head = headers(cast, names, (Live("etag"),))
        if method not in writes:
            return call(method, target, caller, head)
        body = payload(cast, writes[method])
        return st.builds(lambda c, b: Call(c.method, c.target, c.who, (*c.headers, *b[0]), b[1]),
                         call(method, target, caller, head), body)
    return recipe


# --- the server's own routes --------------------------------------------------------------

def plain(path: str, method: str = "GET") -> Recipe:
    """A route that takes no input but its query and headers."""
    return lambda cast: call(method, at(path), who("anon", "owner", "session"), headers(cast))


def page(path: str, valid: list[tuple[str, fi.Value]] | None = None,
         odd: dict[str, list[fi.Value]] | None = None,
         extra: dict[str, list[fi.Value]] | None = None) -> Recipe:
    """A page for browsers (the signed-in owner most often)."""
    params = edited(valid or [], odd, extra)
    return lambda cast: call("GET", at(path, params), who("session", "session", "anon",
                                                         "visitor", forged=False),
                             headers(cast, ("accept",)))


def static_file(method: str) -> Recipe:
    """The pages' stylesheet and script, cached or not, and names that are none of them."""
    names = st.sampled_from(["commonpod.css", "commonpod.js", "commonpod.css?v=x", "x.css",
                             "..%2fbase.html", "%2e%2e", "base.html", "commonpod.css%00"])
    return lambda cast: call(method, names.map(lambda n: "/.static/" + n), who("anon", "session"),
                             headers(cast, ("accept", "if-none-match")))


FormFields = Callable[[Cast], st.SearchStrategy[Pairs]]


def posted(path: str, fields: FormFields, callers: tuple[str, ...]) -> Recipe:
    """A form posted by a browser: its fields (CSRF token included) mostly right."""
    def recipe(cast: Cast) -> st.SearchStrategy[Call]:
        body = fi.mostly(fi.form(fields(cast)), st.one_of(
            st.binary(max_size=200), fi.mutated([b"csrf=a&name=b&x=%41"])), 9)
        ctype = fi.mostly(st.just("application/x-www-form-urlencoded"), st.sampled_from(
            ["application/x-www-form-urlencoded; charset=latin-1", "text/plain", "",
             "multipart/form-data; boundary=x"]), 9)
        head = st.builds(lambda h, c: (*h, ("content-type", c)), headers(cast), ctype)
        return call("POST", at(path), who(*callers, forged=False), head, body)
    return recipe


def fields(valid: list[tuple[str, fi.Value]], odd: dict[str, list[fi.Value]] | None = None,
           extra: dict[str, list[fi.Value]] | None = None) -> FormFields:
    return lambda cast: edited(valid, odd, extra)


CSRF = ("csrf", Live("csrf"))
PASSWORD = "a long enough password"
ODD_PASSWORDS: list[fi.Value] = ["short", "x" * 5000, "", "another long password"]


@st.composite
def signup_fields(draw: st.DrawFn, cast: Cast) -> Pairs:
    name = draw(st.from_regex(r"\A[a-z][a-z0-9]{2,8}\Z"))
    return draw(edited(
        [CSRF, ("name", name), ("password", PASSWORD), ("confirm", PASSWORD),
         ("return_to", "/.account/")],
        {"name": ["zed", cast.owner["name"], "account", "Zed", " zed ", "a" * 64, "-a", "x_y"],
         "password": ODD_PASSWORDS, "confirm": ODD_PASSWORDS, "csrf": ["x"],
         "return_to": ["//evil.example", "javascript:x", "/\\x", "/" + "x" * 3000]}))


def oauth(cast: Cast) -> st.SearchStrategy[Pairs]:
    """An authorization request (RFC 6749 §4.1.1, PKCE S256), edited."""
    return edited(
        [("response_type", "code"), ("client_id", cast.app_id), ("redirect_uri", cast.redirect),
         ("scope", "openid webid offline_access"), ("state", "st8"), ("nonce", "n"),
         ("code_challenge", CHALLENGE), ("code_challenge_method", "S256")],
        {"response_type": ["token", "code id_token", "", '"'],
         "client_id": [cast.owner["client_id"], fi.NOWHERE + "app.json", "did:x",
                       cast.owner["pod"] + "public/app.json"],
         "redirect_uri": [cast.redirect + "/x", "http://127.0.0.1:9", "javascript:x"],
         "scope": ["openid", "webid profile", "offline_access"],
         "code_challenge": ["short", "\\" * 43], "code_challenge_method": ["plain", "s256"]},
        {"prompt": ["none", "consent"], "request": ["a.b.c"], "response_mode": ["form_post"],
         "max_age": ["0"], "claims": ["{}"]})


def token_endpoint(cast: Cast) -> st.SearchStrategy[Call]:
    """Each grant (RFC 6749 §4.1.3, §4.4, §6) in its valid shape, edited; a DPoP proof
    mostly, sometimes a wrong one."""
    cc = ("grant_type", "client_credentials")
    shapes = st.sampled_from([
        ([cc, ("scope", "webid")], True),
        ([cc, ("client_id", Live("client_id")), ("client_secret", Live("client_secret"))], False),
        ([("grant_type", "authorization_code"), ("code", Live("code")),
          ("code_verifier", Live("verifier")), ("redirect_uri", cast.redirect),
          ("client_id", cast.app_id)], False),
        ([("grant_type", "refresh_token"), ("refresh_token", Live("refresh")),
          ("client_id", cast.app_id)], False)])
    odd: dict[str, list[fi.Value]] = {
        "grant_type": ["password", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        "scope": ["openid webid offline_access", "admin"], "client_id": [cast.app_id, "x"],
        "client_secret": ["wrong"], "code": ["x" * 43], "code_verifier": ["short", "x" * 43],
        "redirect_uri": [fi.NOWHERE], "refresh_token": ["x" * 43]}

    @st.composite
    def one(draw: st.DrawFn) -> Call:
        valid, basic = draw(shapes)
        form = draw(fi.form(edited(valid, odd, {"client_id": [cast.app_id]})))
        head: dict[str, Any] = dict(draw(headers(cast)))
        head["content-type"] = draw(fi.mostly(st.just("application/x-www-form-urlencoded"),
                                              st.sampled_from(["", "application/json"]), 9))
        if basic:
            head["authorization"] = draw(fi.mostly(st.just(Live("basic")), st.sampled_from(
                ["Basic Og==", "Basic !!", "Basic " + base64.b64encode(b"a%zz:b").decode()])))
        proof = draw(fi.mostly(st.just(Live("bare-proof")), st.sampled_from(
            [None, *(Live(p) for p in PROOFS)])))
        if proof is not None:
            head["dpop"] = proof
        return Call("POST", draw(at("/.oidc/token")), "anon", tuple(head.items()), form)
    return one()


def registration_endpoint(cast: Cast) -> st.SearchStrategy[Call]:
    body = fi.json_document(registration(cast.redirect))
    ctype = fi.mostly(st.just("application/json"), st.sampled_from(
        ["text/plain", "", "application/json; charset=latin-1"]), 9)
    head = st.builds(lambda h, c: (*h, ("content-type", c)), headers(cast), ctype)
    return call("POST", at("/.oidc/reg"), who("anon"), head, body)


def api(path: str, params: Callable[[Cast], st.SearchStrategy[Pairs]], method: str = "GET",
        body: Callable[[Cast], st.SearchStrategy[bytes]] | None = None) -> Recipe:
    """An API route for the owner's own programs (DPoP), tried by others too."""
    def recipe(cast: Cast) -> st.SearchStrategy[Call]:
        caller = who("owner", "owner", "owner", "owner", "anon", "other", "session")
        return call(method, at(path, params(cast)), caller, headers(cast, ("accept",)),
                    body(cast) if body else None)
    return recipe


CHANNEL_TYPES = ["WebSocketChannel2023", "WebhookChannel2023", "LDNChannel2023", "%ff", "x"]


def notification_service(method: str) -> Recipe:
    """A subscription service's description (or its preflight), for any channel type."""
    return lambda cast: call(method, st.sampled_from(CHANNEL_TYPES).map(
        lambda kind: f"/.notifications/{kind}/"), who("anon", "owner"),
        headers(cast, ("accept", "origin", "access-control-request-headers")))


def subscription(cast: Cast) -> st.SearchStrategy[Call]:
    """A subscription request (Solid Notifications Protocol §5), mostly right."""
    seed = {"@context": ["https://www.w3.org/ns/solid/notification/v1"],
            "type": "WebSocketChannel2023", "topic": cast.owner["pod"] + "known/doc.ttl"}
    hook = {**seed, "type": "WebhookChannel2023", "sendTo": "http://127.0.0.1:9/hook"}
    seeds = [json.dumps(x).encode() for x in (seed, hook, {**seed, "endAt": "2030-01-01T00:00Z"})]
    body = fi.mostly(fi.mutated(seeds, most=2), fi.json_document(seed), 7)
    kinds = st.sampled_from(CHANNEL_TYPES[:2] * 4 + CHANNEL_TYPES[2:])
    media = st.sampled_from(["application/ld+json"] * 6 + ["application/json", "text/turtle"])
    return with_header(call("POST", kinds.map(lambda kind: f"/.notifications/{kind}/"),
                            who("owner", "owner", "anon", "other", "session"),
                            headers(cast, ("accept", "origin")), body),
                       media.map(lambda m: (("content-type", m),)))


def notification_channel(method: str) -> Recipe:
    """A channel (its description, its end, its preflight) that mostly does not exist."""
    ids = st.sampled_from(["0" * 32, "x", "%ff", "..", "a" * 300])
    return lambda cast: call(method, ids.map(lambda i: f"/.notifications/channels/{i}"),
                             who("owner", "anon", "other"), headers(cast))


PODS: list[fi.Value] = ["zed", "nope", "", "%ff", "Fuzz", "x" * 100]
DATES: list[fi.Value] = ["2025-01-01", "0001-01-01", "9999-12-31", "2025-13-01", "2025-1-1",
                         "yesterday"]


def owner_pod(cast: Cast, extra: dict[str, list[fi.Value]] | None = None
              ) -> st.SearchStrategy[Pairs]:
    return edited([("pod", cast.owner["name"])], {"pod": PODS}, extra)


def grant_body(cast: Cast) -> st.SearchStrategy[bytes]:
    seeds = [json.dumps({"grant": iri}).encode() for iri in
             (cast.grant, cast.owner["pod"] + "grants/x", cast.owner["webid"], "", "urn:x")]
    return fi.mostly(fi.mutated(seeds, most=2), fi.json_document({"grant": cast.grant}), 7)


def pod_archive() -> bytes:
    """A valid pod archive holding only a pod root (what an import into a new pod takes)."""
    empty = hashlib.sha256(b"").hexdigest()
    manifest = {"format": "https://commonpod.org/ns/pod-archive", "version": 1,
                "pod": "http://127.0.0.1:9/old/", "owner": "http://127.0.0.1:9/old/profile/card#me",
                "issuer": "http://127.0.0.1:9/", "exported": "2025-01-01T00:00:00Z",
                "resources": [{"path": "/", "file": "pod/.container.ttl", "kind": "container",
                               "content_type": "text/turtle", "size": 0, "sha256": empty,
                               "modified": 1.0}], "files": []}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("pod/.container.ttl", b"")
    return out.getvalue()


def shared(cast: Cast) -> str:
    return cast.owner["pod"] + "known/doc.ttl"


SHARE_ODD: dict[str, list[fi.Value]] = {
    "kind": ["group", "public", "authenticated", "owner", ""],
    "who": [fi.NOWHERE + "card#me", "not a url", "", "http://127.0.0.1:9/%ff#me"],
    "resource": ["", "https://elsewhere.example/x", fi.NOWHERE, "/fuzz/known/doc.ttl"]}


def share_fields(cast: Cast) -> st.SearchStrategy[Pairs]:
    return edited([CSRF, ("resource", shared(cast)), ("kind", "person"),
                   ("who", cast.other["webid"]), ("read", "1")],
                  {**SHARE_ODD, "resource": [*SHARE_ODD["resource"], cast.owner["pod"],
                                             cast.owner["pod"] + "known/doc.ttl.acl",
                                             cast.owner["pod"] + "profile/card"],
                   "who": [*SHARE_ODD["who"], cast.owner["webid"],
                           cast.owner["pod"] + "known/doc.ttl"]},
                  {"append": ["1"], "write": ["1"], "control": ["1"]})


def import_upload(cast: Cast) -> st.SearchStrategy[Call]:
    """An archive uploaded to the import page: valid, or mangled, by a browser whose pod is
    new (spare's, so archives are really read) or not."""
    archive = fi.mostly(st.just(pod_archive()), fi.mutated([pod_archive()], most=3), 3)
    fields = edited([CSRF], {"csrf": ["x", ""]}, {"archive": ["not a file"]})
    body = st.builds(lambda f, a, n: fi.Multipart(f, files=((n, "pod.zip", a),)),
                     fields, archive, fi.mostly(st.just("archive"), st.just("other"), 9))
    ctype = fi.mostly(st.just(f"multipart/form-data; boundary={fi.BOUNDARY}"), st.sampled_from(
        ["multipart/form-data", "application/x-www-form-urlencoded", "",
         "multipart/form-data; boundary=other"]), 9)
    head = st.builds(lambda h, c: (*h, ("content-type", c)), headers(cast), ctype)
    return call("POST", at("/.account/import"), who("spare", "spare", "session", "anon",
                                                    forged=False), head, body)


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24  # the first bytes of a PNG: taken as a photo


def profile_upload(cast: Cast) -> st.SearchStrategy[Call]:
    """The profile form (multipart, for the photo): fields mostly sensible, a photo that is
    an image, or not, or none."""
    fields = edited([CSRF, ("name", "Fuzz Owner"), ("bio", "I mend things."),
                     ("links", "https://example.org/me")],
                    {"name": ["", "x" * 300, "\u202e", "<b>x</b>"], "csrf": ["x", ""],
                     "links": ["not a link", "javascript:alert(1)", "http://a b",
                               "https://x.example/\nftp://y"], "bio": ["x" * 1500]},
                    {"remove_photo": ["yes"], "version": ["x", '"0"']})
    photo = st.sampled_from([PNG, b"GIF89a" + b"\0" * 10, b"not an image", b""])
    body = st.builds(lambda f, p, n: fi.Multipart(f, files=((n, "me.png", p),)), fields, photo,
                     fi.mostly(st.just("photo"), st.just("other"), 9))
    ctype = fi.mostly(st.just(f"multipart/form-data; boundary={fi.BOUNDARY}"), st.sampled_from(
        ["multipart/form-data", "application/x-www-form-urlencoded", ""]), 9)
    head = st.builds(lambda h, c: (*h, ("content-type", c)), headers(cast), ctype)
    return call("POST", at("/.account/profile"), who("session", "session", "spare", "anon",
                                                      forged=False), head, body)


def contribution(cast: Cast) -> str:
    return cast.owner["pod"] + "contributions/c1"


def contribution_fields(cast: Cast) -> st.SearchStrategy[Pairs]:
    return edited(
        [CSRF, ("name", "Mended the toaster"), ("kind", "https://commonpod.org/ns#Mentoring"),
         ("kind", "https://commonpod.org/ns#CareWork"), ("scope", "https://riverside.example/"),
         ("date", "2025-05-04"), ("hours", "2.5"), ("evidence", "https://x.example/a")],
        {"name": ["", "x" * 600], "kind": ["Mentoring", "", "urn:x"],
         "scope": ["riverside", "", "http://a b"], "date": ["2025-13-01", "yesterday", ""],
         "hours": ["-1", "many", "1e400"], "evidence": ["not a link"], "csrf": ["x", ""]},
        {"document": [contribution(cast), cast.owner["pod"] + "profile/card",
                      cast.owner["pod"] + "contributions/", "https://elsewhere.example/x"],
         "version": ["x", '"0"'], "beginning": ["2025-06-01"], "end": ["2025-01-01"],
         "receiver": ["https://riverside.example/#community"], "description": ["y" * 20000]})


def contribution_document(cast: Cast) -> st.SearchStrategy[Pairs]:
    return edited([("document", contribution(cast))],
                  {"document": [cast.owner["pod"] + "profile/card", "", "x",
                                cast.owner["pod"] + "contributions/",
                                cast.owner["pod"] + "contributions/c1#it",
                                cast.owner["pod"] + "contributions/%ff"]})
def scratch(cast: Cast, path: str = "") -> str:
    """A folder of the owner's pod the pod browser's forms may write into and delete from."""
    return cast.owner["pod"] + "pages/" + path


def in_pod(cast: Cast) -> list[fi.Value]:
    """Resource URLs, odd and not, for the pod browser's pages."""
    pod = cast.owner["pod"]
    return [pod, shared(cast), pod + "known/", pod + "known/doc.ttl.acl", pod + "nothing",
            cast.other["pod"], pod + "%2e%2e/", pod + "a/..%2f..%2f", "", "x",
            "https://elsewhere.example/x", pod + "profile/card", scratch(cast)]


def writable(cast: Cast) -> list[fi.Value]:
    """Resource URLs for the pod browser's writing forms: odd ones, and the scratch folder's,
    but nothing another recipe needs (the owner's profile, ``known/``) — a valid delete or
    overwrite of those would leave the rest of the run without them."""
    pod = cast.owner["pod"]
    return [pod, scratch(cast), scratch(cast, "n.ttl"), scratch(cast, "sub/"), pod + "nothing",
            cast.other["pod"], cast.other["pod"] + "profile/card", pod + "%2e%2e/",
            pod + "a/..%2f..%2f", "", "x", "https://elsewhere.example/x", fi.NOWHERE]


def pod_upload(cast: Cast) -> st.SearchStrategy[Call]:
    """Files uploaded into a folder of the owner's pod: fine, or named, typed and framed
    oddly."""
    names = st.sampled_from(["a.txt", "b.ttl", ".acl", "x.meta", "../up.txt", "a\\b.txt",
                             "", "%2e%2e", "\u00e9t\u00e9.txt", "x" * 300])
    data = st.sampled_from([b"hello", fi.TURTLE, b"<a> <b", b"", b"\x00\xff" * 50])
    files = st.lists(st.tuples(st.just("files"), names, data), min_size=0, max_size=3)
    fields = edited([CSRF, ("container", scratch(cast))],
                    {"csrf": ["x", ""], "container": writable(cast)})
    body = st.builds(lambda f, fs: fi.Multipart(f, files=tuple(fs)), fields, files)
    ctype = fi.mostly(st.just(f"multipart/form-data; boundary={fi.BOUNDARY}"), st.sampled_from(
        ["multipart/form-data", "application/x-www-form-urlencoded", ""]), 9)
    head = st.builds(lambda h, c: (*h, ("content-type", c)), headers(cast), ctype)
    return call("POST", at("/.account/pod/upload"), who("session", "session", "spare", "anon",
                                                        forged=False), head, body)


def pod_page(path: str, names: tuple[str, ...]) -> Recipe:
    """A pod browser page about a resource (``names``: its query parameters)."""
    return lambda cast: call("GET", at(path, edited(
        [(names[0], scratch(cast))], {n: in_pod(cast) for n in names},
        {"download": ["1", ""], **{n: in_pod(cast) for n in names}})),
        who("session", "session", "anon", "spare", forged=False), headers(cast, ("accept",)))


RECIPES: dict[tuple[str, str], Recipe] = {
    **{(LDP, m): ldp(m) for m in ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")},
    ("/.api/openapi.json", "GET"): plain("/.api/openapi.json"),
    ("/.api/openapi.json", "HEAD"): plain("/.api/openapi.json", "HEAD"),
    **{("/.well-known/solid", m): plain("/.well-known/solid", m) for m in ("GET", "HEAD")},
    ("/", "GET"): plain("/"),
    ("/.well-known/openid-configuration", "GET"): plain("/.well-known/openid-configuration"),
    ("/.oidc/jwks", "GET"): plain("/.oidc/jwks"),
    ("/.vocab/ns", "GET"): plain("/.vocab/ns"),
    ("/.vocab/shapes", "GET"): plain("/.vocab/shapes"),
    ("/.oidc/reg", "OPTIONS"): plain("/.oidc/reg", "OPTIONS"),
    ("/.oidc/token", "OPTIONS"): plain("/.oidc/token", "OPTIONS"),
    ("/.oidc/auth", "GET"): lambda cast: call(
        "GET", at("/.oidc/auth", oauth(cast)), who("session", "session", "anon", forged=False),
        headers(cast)),
    ("/.oidc/auth", "POST"): posted("/.oidc/auth", fields(
        [CSRF, ("request", Live("pending")), ("decision", "allow"),
         ("need-contributions", "yes"), ("days-contributions", "7")],
        {"decision": ["deny", ""], "request": ["x" * 43], "csrf": ["x"],
         "days-contributions": ["365", "0", "-1", "1e3", "\u0663", "90"]}),
        ("session", "session", "session", "anon", "visitor")),
    ("/.oidc/token", "POST"): token_endpoint,
    ("/.oidc/reg", "POST"): registration_endpoint,
    ("/.account/signup", "GET"): page("/.account/signup", extra={"return_to": ["//x", "/"]}),
    ("/.account/signup", "POST"): posted("/.account/signup", signup_fields,
                                         ("visitor", "visitor", "visitor", "anon")),
    ("/.account/login", "GET"): page("/.account/login", extra={"return_to": ["//x", "/"]}),
    # never the harness's own accounts here: a wrong password would lock them out
    ("/.account/login", "POST"): posted("/.account/login", fields(
        [CSRF, ("name", "zed"), ("password", PASSWORD), ("return_to", "/.account/log")],
        {"name": ["ZED", "", "x" * 100, "nobody"], "password": ODD_PASSWORDS,
         "return_to": ["//evil.example", "https://x.example/"]}),
        ("visitor", "visitor", "visitor", "anon")),
    ("/.account/logout", "POST"): posted("/.account/logout", fields([CSRF]),
                                         ("spare", "spare", "anon", "visitor")),
    ("/.account/", "GET"): page("/.account/", extra={"changed": ["password", "credentials"]}),
    ("/.account/password", "GET"): page("/.account/password"),
    ("/.account/password", "POST"): posted("/.account/password", fields(
        [CSRF, ("current", Live("password")), ("new", PASSWORD), ("confirm", PASSWORD)],
        {"current": ["wrong password"], "new": ODD_PASSWORDS, "confirm": ODD_PASSWORDS}),
        ("spare", "spare", "spare", "anon")),
    ("/.account/credentials", "POST"): posted("/.account/credentials", fields(
        [CSRF, ("label", "script")], {"label": ["x" * 200, ""]}),
        ("session", "session", "anon")),
    ("/.account/credentials/revoke", "POST"): posted(
        "/.account/credentials/revoke", lambda c: edited(
            [CSRF, ("client_id", c.throwaway)], {"client_id": [c.other["client_id"], "cred_x"]}),
        ("session", "session", "anon")),
    ("/.account/log", "GET"): page("/.account/log", extra={
        "app": ["x", "", "%ff"], "from": DATES, "to": DATES}),
    ("/.api/log", "GET"): api("/.api/log", lambda c: owner_pod(c, {
        "app": ["x", ""], "agent": [c.other["webid"], ""], "from": DATES, "to": DATES,
        "limit": ["1", "10000", "10001", "0", "x", "-5"]})),
    ("/.account/grants", "GET"): page("/.account/grants", extra={"revoked": ["1"]}),
    ("/.account/grants/revoke", "POST"): posted(
        "/.account/grants/revoke", lambda c: edited(
            [CSRF, ("grant", Live("grant"))], {"grant": [c.owner["webid"], "urn:x"]}),
        ("session", "session", "anon")),
    ("/.account/delete", "GET"): page("/.account/delete"),
    # never the right password: the harness's accounts must survive the run
    ("/.account/delete", "POST"): posted("/.account/delete", lambda c: edited(
        [CSRF, ("password", "wrong password"), ("confirm", c.owner["name"])],
        {"password": ODD_PASSWORDS, "confirm": ["", "x" * 300, "%ff", c.other["name"]]}),
        ("spare", "spare", "anon", "visitor")),
    ("/.account/deleted", "GET"): page("/.account/deleted"),
    ("/favicon.ico", "GET"): plain("/favicon.ico"),
    **{("/.static/{name}", m): static_file(m) for m in ("GET", "HEAD")},
    ("/favicon.ico", "HEAD"): plain("/favicon.ico", "HEAD"),
    ("/.api/grants/mine", "GET"): api("/.api/grants/mine", owner_pod),
    ("/.api/grants", "GET"): api("/.api/grants", owner_pod),
    ("/.api/grants/revoke", "POST"): api("/.api/grants/revoke", owner_pod, "POST", grant_body),
    ("/.account/share", "GET"): lambda cast: call("GET", at("/.account/share", edited(
        [("resource", shared(cast))], SHARE_ODD, {"done": ["shared", "removed", "x"],
                                                  "notified": ["yes", "refused", "x"]})),
        who("session", "session", "anon", "spare", forged=False), headers(cast, ("accept",))),
    ("/.account/share", "POST"): posted("/.account/share", share_fields,
                                        ("session", "session", "session", "spare", "anon")),
    ("/.account/share/remove", "POST"): posted("/.account/share/remove", share_fields,
                                               ("session", "session", "spare", "anon")),
    ("/.account/shared", "GET"): page("/.account/shared"),
    ("/.account/pod/raw", "GET"): pod_page("/.account/pod/raw", ("resource",)),
    ("/.account/pod/edit", "GET"): pod_page("/.account/pod/edit", ("resource", "container")),
    ("/.account/pod/delete", "GET"): pod_page("/.account/pod/delete", ("resource",)),
    ("/.account/pod/upload", "POST"): pod_upload,
    ("/.account/pod/folder", "POST"): posted("/.account/pod/folder", lambda c: edited(
        [CSRF, ("container", scratch(c)), ("name", "sub")],
        {"container": writable(c), "name": ["", ".acl", "..", "a/b", "x" * 300, "%ff", "sub"]}),
        ("session", "session", "spare", "anon")),
    ("/.account/pod/edit", "POST"): posted("/.account/pod/edit", lambda c: edited(
        [CSRF, ("container", scratch(c)), ("name", "n.ttl"), ("content_type", "text/turtle"),
         ("body", "<#a> <#b> <#c>.")],
        {"container": writable(c), "name": ["", ".acl", "x.meta", "..", "n.ttl"],
         "content_type": ["text/plain", "application/ld+json", "image/png", "", "x" * 300],
         "body": ["<#a> <#b", "{}", "@prefix : <#>. :a :b :c.", "\x00"]},
        {"resource": writable(c), "etag": ['"x"', "*", ""]}),
        ("session", "session", "spare", "anon")),
    ("/.account/pod/delete", "POST"): posted("/.account/pod/delete", lambda c: edited(
        [CSRF, ("resource", scratch(c, "n.ttl")), ("count", "1")],
        {"resource": writable(c), "count": ["0", "x", "2", ""]}),
        ("session", "session", "spare", "anon")),
    ("/.account/export", "GET"): page("/.account/export"),
    ("/.account/export", "POST"): posted("/.account/export", fields([CSRF]),
                                         ("session", "session", "spare", "anon", "visitor")),
    ("/.account/import", "GET"): page("/.account/import", extra={
        "resources": ["1", "x", "-1", "9" * 30], "rewritten": ["0", "%ff"]}),
    ("/.account/import", "POST"): import_upload,
    ("/.account/profile", "GET"): page("/.account/profile", extra={"saved": ["1"]}),
    ("/.account/profile", "POST"): profile_upload,
    ("/.account/statements", "GET"): page("/.account/statements"),
    ("/.account/contributions", "GET"): page("/.account/contributions", extra={
        "done": ["added", "saved", "deleted", "x"]}),
    ("/.account/contributions/edit", "GET"): lambda cast: call(
        "GET", at("/.account/contributions/edit", contribution_document(cast)),
        who("session", "session", "anon", "spare", forged=False), headers(cast, ("accept",))),
    ("/.account/contributions/edit", "POST"): posted(
        "/.account/contributions/edit", contribution_fields, ("session", "session", "anon")),
    ("/.account/contributions/delete", "GET"): lambda cast: call(
        "GET", at("/.account/contributions/delete", contribution_document(cast)),
        who("session", "session", "anon", "spare", forged=False), headers(cast, ("accept",))),
    # never the version shown: the fuzzer's contribution stays (a refused delete is checked)
    ("/.account/contributions/delete", "POST"): posted(
        "/.account/contributions/delete", lambda c: edited(
            [CSRF, ("document", contribution(c)), ("version", '"stale"')],
            {"document": ["", c.owner["pod"] + "profile/card", "x"]}),
        ("session", "session", "anon")),
    **{("/.notifications/{kind}/", m): notification_service(m) for m in ("GET", "OPTIONS")},
    ("/.notifications/{kind}/", "POST"): subscription,
    **{("/.notifications/channels/{channel_id}", m): notification_channel(m)
       for m in ("GET", "DELETE", "OPTIONS")},
    ("/.notifications/ws/{secret}", "WEBSOCKET"): lambda cast: call(  # asked over plain HTTP
        st.sampled_from(["GET", "POST"]), st.sampled_from(
            ["/.notifications/ws/x", "/.notifications/ws/" + "a" * 32, "/.notifications/ws/"]),
        who("anon", "owner"), headers(cast)),
    ("/.api/collect", "GET"): api("/.api/collect", lambda c: edited(
        [("pod", c.owner["name"]), ("class", "cp:Contribution")],
        {"pod": PODS, "class": ["cp:", ":", "zz:x", "https://commonpod.org/ns#Contribution",
                                fi.NOWHERE + "x", "x" * 3000, "_:b"]})),
}


def unrouted(cast: Cast) -> st.SearchStrategy[Call]:
    """Server paths nothing serves, routes asked with a method they do not take, and pod
    resources asked with methods the LDP edge does not serve."""
    name = cast.owner["name"]
    paths = sorted({p for p, _ in RECIPES if p != LDP} | {
        "/.nope", "/.account/x", "/.%ff", "/.well-known/x", "/.api/", "/.",
        f"/{name}/known/doc.ttl", f"/{name}/", "/pub/"})
    methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD",
                               "FOO", "PROPFIND", "MKCOL", "TRACE", "COPY"])
    return call(methods, st.sampled_from(paths), who("anon", "owner"), headers(cast))

"""Hypothesis strategies for the fuzz test (tests/test_fuzz.py): odd paths and queries, header
values, and bodies made by grammar-aware mutation of valid documents (Turtle, JSON-LD, N3
Patch, SPARQL Update, JSON, forms), which reach far deeper than random bytes.

Every URL a strategy makes points at loopback (port 9 refuses at once) or at the server
itself, so nothing the server is led to fetch ever leaves the machine.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

NOWHERE = "http://127.0.0.1:9/"  # loopback, connection refused

def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any],
           tenths: int = 8) -> st.SearchStrategy[Any]:
    """``usual`` ``tenths`` times in ten, else ``odd``; shrinking goes towards ``usual``."""
    return st.integers(0, 9).flatmap(lambda n: usual if n < tenths else odd)


# --- valid documents, mutated below ------------------------------------------------------

TURTLE = b"""@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a ex:Thing ; ex:name "it"@en, "\\u00e9t\\u00e9" ; ex:n 42 ; ex:d "2025-01-01"^^xsd:date ;
    ex:list ( 1 2.5 true ) ; ex:b [ ex:c _:b1 ] ; ex:see <../other#x> .
"""
NTRIPLES = b'<http://example.org/s> <http://example.org/p> "o"@en .\n'
JSON_LD = b"""{"@context": {"@vocab": "http://example.org/", "xsd": "http://www.w3.org/2001/XMLSchema#"},
 "@id": "#it", "@type": "Thing", "name": {"@value": "it", "@language": "en"}, "n": 42,
 "list": {"@list": [1, 2]}, "b": {"c": {"@id": "_:b1"}}, "@reverse": {"knows": {"@id": "#x"}}}"""
JSON_LD_VC = b"""{"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1",
 "type": ["VerifiableCredential"], "issuer": "did:example:1",
 "credentialSubject": {"id": "#it", "name": "it"}, "validFrom": "2025-01-01T00:00:00Z"}"""
N3_PATCH = b"""@prefix solid: <http://www.w3.org/ns/solid/terms#> .
@prefix ex: <http://example.org/> .
_:p a solid:InsertDeletePatch ; solid:where { ?s ex:n ?n } ;
    solid:deletes { ?s ex:n ?n } ; solid:inserts { ?s ex:n 43 ; ex:tag "t" } .
"""
SPARQL = b"""PREFIX ex: <http://example.org/>
INSERT DATA { <#it> ex:tag "new" } ;
DELETE { ?s ex:name ?o } INSERT { ?s ex:name "renamed" } WHERE { ?s ex:name ?o } ;
DELETE DATA { <#it> ex:n 42 }
"""
SPARQL_MORE = b"""PREFIX ex: <http://example.org/>
DELETE WHERE { ?s ex:tag ?t } ;
INSERT { ?s ex:seen [ ex:at "now" ] }
WHERE { ?s a ex:Thing OPTIONAL { ?s ex:n ?n } FILTER(!BOUND(?n) || ?n > 1) }
"""
N3_MORE = b"""@prefix solid: <http://www.w3.org/ns/solid/terms#> .
@prefix ex: <http://example.org/> .
<#patch> a solid:InsertDeletePatch ;
    solid:inserts { <#it> ex:list ( 1 [ ex:b "c" ] ) ; ex:q ?unbound } ;
    solid:deletes { <#it> ex:absent "x" } .
"""
ACL = b"""@prefix acl: <http://www.w3.org/ns/auth/acl#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<#owner> a acl:Authorization ; acl:agent <OWNER> ; acl:accessTo <./> ; acl:default <./> ;
    acl:mode acl:Read, acl:Write, acl:Control .
<#public> a acl:Authorization ; acl:agentClass foaf:Agent ; acl:accessTo <./> ;
    acl:mode acl:Read ; acl:origin <http://127.0.0.1:9> .
<#group> a acl:Authorization ; acl:agentGroup <http://127.0.0.1:9/group#g> ;
    acl:default <./> ; acl:mode acl:Append .
"""
CONTRIBUTION = b"""@prefix cp: <https://commonpod.org/ns#> .
@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a cp:Contribution ; vf:action vf:work ; vf:provider <OWNER> ;
    vf:inScopeOf <https://riverside.example/#community> ; vf:resourceClassifiedAs cp:CareWork ;
    vf:hasPointInTime "2025-05-01T10:00:00Z"^^xsd:dateTime ; schema:name "C" .
"""
RDF_SEEDS = (TURTLE, NTRIPLES, JSON_LD, JSON_LD_VC, ACL, CONTRIBUTION)
PATCH_SEEDS = (N3_PATCH, N3_MORE, SPARQL, SPARQL_MORE)

#: pieces of the grammars above, and of JSON, that mutations insert
TOKENS = [t.encode() for t in (
    "<", ">", "{", "}", "[", "]", "(", ")", ".", ";", ",", '"', '"""', "'", "#", "\\", "\n",
    "@prefix", "@base", "PREFIX", "BASE", "_:", "?x", "a", "^^", "@en", "\\u0000",
    "\\U0010FFFF", "\\uD800", "INSERT DATA", "DELETE DATA", "DELETE WHERE", "WHERE", "INSERT",
    "GRAPH <urn:g>", "WITH <urn:g>", "USING <urn:g>", f"SERVICE <{NOWHERE}>", f"LOAD <{NOWHERE}>",
    "CLEAR ALL", "DROP ALL", "CREATE GRAPH <urn:g>", "COPY DEFAULT TO <urn:g>", "FILTER(?x)",
    "OPTIONAL", "BIND(1 AS ?x)", "solid:inserts", "solid:deletes", "solid:where",
    "solid:InsertDeletePatch", "{ ?a ?b ?c }", "<#it>", "<>", "<../../../x>", f"<{NOWHERE}x>",
    '"@context"', '"@id"', '"@type"', '"@graph"', '"@list"', '"@set"', '"@value"',
    '"@reverse"', '"@nest"', '"@included"', '"@import"', '"@version"', '"@container"',
    f'"{NOWHERE}ctx"', '"https://www.w3.org/ns/credentials/v2"', "null", "true", "[[[[",
    "{{{{", ":", "1e999", "-0", "9" * 40, "1" * 5000, "NaN", "Infinity", "\x00", "\xff\xfe",
    "\xc3", "\xed\xa0\x80", "acl:Control", "acl:agentGroup", "acl:origin", "foaf:Agent",
)]


#: a rough lexer shared by Turtle, N3, SPARQL and JSON: strings, IRIs, spaces, punctuation, words
LEXEME = re.compile(rb'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|<[^>\s]*>|\s+|[{}()\[\];,.]'
                    rb'|[^\s{}()\[\];,.<"]+|[\s\S]')


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...] | list[bytes], most: int = 4) -> bytes:
    """A seed with up to ``most`` edits, mostly of whole tokens (drop, repeat or swap one,
    replace it by or insert a token of the grammars above), sometimes of bytes (cut the rest,
    change one). No edit at all is the valid document, where shrinking leads."""
    tokens = LEXEME.findall(draw(st.sampled_from(seeds))) or [b""]
    for _ in range(draw(st.sampled_from((0, 0, 1, 1, 1, 2, 2, 3, most)))):
        i = draw(st.integers(0, len(tokens) - 1))
        edit = draw(st.sampled_from(("drop", "repeat", "swap", "replace", "insert", "insert",
                                     "cut", "byte")))
        if edit == "drop" and len(tokens) > 1:
            del tokens[i]
        elif edit == "repeat":
            tokens[i:i] = [tokens[i]] * draw(st.integers(1, 50))
        elif edit == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif edit in ("replace", "insert"):
            token = draw(st.sampled_from(TOKENS))
            tokens[i:i + (edit == "replace")] = [token, b" "]
        elif edit == "cut":
            del tokens[i + 1:]
        elif tokens[i]:
            changed = bytearray(tokens[i])
            changed[draw(st.integers(0, len(changed) - 1))] = draw(st.integers(0, 255))
            tokens[i] = bytes(changed)
    return b"".join(tokens)


def nested(depth: int, kind: str) -> bytes:
    """JSON (or JSON-LD) nested ``depth`` levels deep."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "jsonld":
        return (b'{"@context": {"@vocab": "http://example.org/"}, "@id": "#it", "p": '
                + b'{"p": ' * depth + b'"deep"' + b"}" * depth + b"}")
    return b'{"a": ' * depth + b"1" + b"}" * depth


def deep() -> st.SearchStrategy[bytes]:
    return st.builds(nested, st.sampled_from((40, 1000, 100_000)),
                     st.sampled_from(("array", "object", "jsonld")))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["", NOWHERE, "a" * 3000, "\x00"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@st.composite
def json_document(draw: st.DrawFn, seed: dict[str, Any]) -> bytes:
    """``seed`` with fields dropped, given values of the wrong type, or added; or raw JSON
    mutated as text; or something nested very deeply."""
    shape = draw(st.sampled_from(("fields", "fields", "fields", "text", "deep", "any")))
    if shape == "deep":
        return draw(deep())
    if shape == "any":
        return json.dumps(draw(json_values)).encode()
    doc = dict(seed)
    for key in draw(st.lists(st.sampled_from(sorted(seed)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del doc[key]
        else:
            doc[key] = draw(json_values)
    doc.update(draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2)))
    text = json.dumps(doc).encode()
    return draw(mutated([text], most=2)) if shape == "text" else text


# --- paths, queries, headers -------------------------------------------------------------

ODD_SEGMENTS = ["%ff", "%c3%28", "%ed%a0%80", "%00", "%0a", "%7f", "%2f", "%2e", "%2e%2e", "..",
                ".", "", "%25", "%", "%zz", "%e2%82%ac", "%f0%9f%92%a9", "%ef%bf%bf", "a;b=c",
                "~", "@", "!$&'()*+,;=:", "x" * 300, "%20", "+", "%u0041", "%c0%ae", ".acl",
                ".meta", "x.acl", "x.meta", ".well-known", "%2e%61%63%6c"]


def segment(known: list[str]) -> st.SearchStrategy[str]:
    """One raw path segment: a known name, an odd one, random safe text, or random bytes
    percent-encoded (often invalid UTF-8)."""
    odd = st.one_of(
        st.sampled_from(ODD_SEGMENTS),
        st.text(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%", max_size=12),
        st.binary(min_size=1, max_size=6).map(lambda b: "".join(f"%{x:02X}" for x in b)))
    return mostly(st.sampled_from(known), odd, 9) if known else odd


@st.composite
def pod_path(draw: st.DrawFn, pods: list[str], known: list[str]) -> str:
    """A raw pod path (visible ASCII, as a request line carries it)."""
    pod = draw(mostly(st.sampled_from(pods), segment([]), 9))
    parts = draw(st.lists(segment(known), max_size=3))
    path = "/" + "/".join([pod, *parts])
    return path + ("/" if draw(st.booleans()) else "")


ODD_VALUES = ["", "x" * 3000, "%ff", "%", "\x00", "-1", "0", "9" * 30, "1e3", "true",
              NOWHERE, "\xe9", '"', "\\", " a ", "2025-02-30"]


def odd_value() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=10))


@dataclass(frozen=True)
class Live:
    """A value the harness fills in when it sends (a CSRF token, a fresh pending
    authorization request, a real grant IRI …), so examples stay valid across runs."""

    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


Value = str | Live
Pairs = tuple[tuple[str, Value], ...]


@st.composite
def edited(draw: st.DrawFn, valid: list[tuple[str, Value]],
           odd: dict[str, list[Value]] | None = None,
           extra: dict[str, list[Value]] | None = None) -> Pairs:
    """Parameters (of a query or a form) made from a ``valid`` set by a few edits: one
    dropped, given another value (one that is plausible for it, or junk), repeated, or a
    parameter added (an optional one, or junk). Shrinking goes back to ``valid``."""
    odd, extra = odd or {}, extra or {}
    pairs = list(valid)
    for _ in range(draw(st.sampled_from((0, 0, 0, 1, 1, 1, 2, 2, 3)))):
        edit = draw(st.sampled_from(("change", "change", "drop", "add", "add", "repeat")))
        if edit in ("change", "drop", "repeat") and pairs:
            i = draw(st.integers(0, len(pairs) - 1))
            name = pairs[i][0]
            if edit == "drop":
                del pairs[i]
            elif edit == "repeat":
                pairs.append(pairs[i])
            else:
                pairs[i] = (name, draw(mostly(st.sampled_from(odd[name]), odd_value(), 7)
                                       if odd.get(name) else odd_value()))
        else:
            name = draw(st.sampled_from([*extra, "x", "%ff", "", "a[]"]))
            pairs.append((name, draw(st.sampled_from(extra[name]) if extra.get(name)
                                     else odd_value())))
    return tuple(pairs)


def query(params: st.SearchStrategy[Pairs] | None = None) -> st.SearchStrategy[str]:
    """``?…`` from ``params`` (no ``?`` when there are none); a ``%`` stays as it is, so odd
    values may hold invalid escapes."""
    def text(pairs: Pairs) -> str:
        encoded = [f"{quote(k, safe='%')}={quote(str(v), safe='%')}" for k, v in pairs]
        return "?" + "&".join(encoded) if encoded else ""
    return (edited([]) if params is None else params).map(text)


def header_text() -> st.SearchStrategy[str]:
    """Header values that survive the request line's rules (no CR, LF or NUL)."""
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                 exclude_characters="\x7f"), max_size=40)


CONTENT_TYPES = [
    "text/turtle", "text/turtle; charset=utf-8", "text/turtle;charset=latin-1", "TEXT/TURTLE",
    "application/ld+json", 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"',
    "application/n-triples", "application/n-quads", "application/rdf+xml", "text/n3",
    "application/sparql-update", "application/sparql-update; charset=utf-16", "application/json",
    "application/octet-stream", "text/plain", "text/html", "image/png",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", ";", "text/",
    "/turtle", "*/*", "text/turtle; q=0", "text/turtle; charset", 'text/turtle; a="', "x" * 500,
    "text/turtle, application/ld+json",
]
ACCEPTS = [
    "*/*", "text/turtle", "application/ld+json", "text/html", "application/json",
    "application/problem+json", "text/turtle;q=0, */*;q=0", "image/png", "text/*;q=0.5, */*;q=0.1",
    "application/ld+json;q=abc", "text/turtle;q=1e999", "text/turtle;q=-1", ";;;", "",
    ",".join(["text/plain;q=0.1"] * 200), "application/n-triples, text/n3;q=0.9",
    "text/html;level=1;q=0.9;x", "application/sparql-results+json",
]
ENTITY_TAGS = ['*', '"x"', 'W/"x"', '"x", "y"', "x", '""', 'W/', '"', '*, "x"', "\\\"x\\\""]
ORIGINS = ["http://127.0.0.1:9", "null", "https://app.example", "*", "http://[::1", "\xe9"]


@dataclass(frozen=True)
class HeaderPools:
    """What a header may say for one request: most often a sensible value, sometimes not."""

    etags: tuple[str, ...] = ()

    def strategy(self, names: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
        pools = {
            "accept": ACCEPTS, "content-type": CONTENT_TYPES, "origin": ORIGINS,
            "if-match": [*ENTITY_TAGS, *self.etags], "if-none-match": ENTITY_TAGS,
            "slug": ["x", "x.ttl", "", "/", "..", "%2F", "a/b", ".acl", "x.meta", "\xe9",
                     "x" * 400, "c/", "%ff"],
            "link": ['<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"',
                     '<http://www.w3.org/ns/ldp#Container>; rel="type"', '<x>; rel="acl"',
                     "<", 'rel="type"', '<http://www.w3.org/ns/ldp#Resource>; rel=type'],
            "access-control-request-headers": ["DPoP, Authorization", "x" * 300, ","],
            "accept-encoding": ["gzip", "br;q=0", "*"],
            "range": ["bytes=0-1", "bytes=-1", "x"],
        }
        chosen = st.lists(st.sampled_from(names), unique=True, max_size=len(names))
        return chosen.flatmap(lambda keys: st.fixed_dictionaries(
            {k: mostly(st.sampled_from(pools[k]), header_text()) for k in keys}))


# --- forms -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    """A URL-encoded form body: ``pairs`` encoded in order, then ``tail`` raw."""

    pairs: Pairs
    tail: bytes = b""

    def encode(self, fill: dict[str, str]) -> bytes:
        def text(v: Value) -> str:
            return fill.get(v.name, "") if isinstance(v, Live) else v
        body = "&".join(f"{quote(k, safe='')}={quote(text(v), safe='')}" for k, v in self.pairs)
        return body.encode() + self.tail


def form(fields: st.SearchStrategy[Pairs]) -> st.SearchStrategy[Form]:
    """A form of ``fields``, now and then with junk after it (invalid escapes, no UTF-8,
    more fields than allowed), or over the size limit."""
    tail = mostly(st.just(b""), st.sampled_from(
        [b"&%ff=1", b"&&==&", b"&a=%", b"&" + b"f=1&" * 150, b"\xff\xfe", b"&x=%c3",
         b"&big=" + b"x" * 70_000]), 9)
    return st.builds(Form, fields, tail)


@dataclass(frozen=True)
class Multipart(Form):
    """A ``multipart/form-data`` body (RFC 7578, boundary :data:`BOUNDARY`): the fields of
    ``pairs`` (live values filled in), then one file part per ``files`` entry."""

    files: tuple[tuple[str, str, bytes], ...] = ()  # field name, file name, content

    def encode(self, fill: dict[str, str]) -> bytes:
        out = b""
        for name, value in self.pairs:
            text = fill.get(value.name, "") if isinstance(value, Live) else value
            out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                    f"{text}\r\n").encode("utf-8", "replace")
        for name, filename, data in self.files:
            out += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                    f"filename=\"{filename}\"\r\nContent-Type: application/zip\r\n\r\n"
                    ).encode("utf-8", "replace") + data + b"\r\n"
        return out + f"--{BOUNDARY}--\r\n".encode() + self.tail


BOUNDARY = "fuzz-boundary-7MA4YWxk"

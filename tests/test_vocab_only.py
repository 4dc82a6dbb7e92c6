"""``vocab/`` is the only place IRIs are spelled (issue #11 §4): no module of ``pod/``, ``auth/``
or ``apps/`` holds a string constant (docstrings aside) that spells an ``http(s)://`` URL of a
real host — a vocabulary namespace or term, a JSON-LD context, a problem type; they name them
through ``vocab`` instead (terms through the closed namespaces, ``vocab.namespaces.iri_of`` and
``node_of``), so a misspelt term raises instead of becoming a new IRI. Scheme checks
(``"https://"``) and URLs of hosts reserved for examples and loopback (RFC 2606, RFC 6761) are
not IRIs we spell."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from rdflib import namespace as rdflib_namespace

from tests.conftest import ROOT
from vocab import namespaces as ns
from vocab import terms
from vocab.terms import CP

CHECKED = ("pod", "auth", "apps")
URL = re.compile(r"https?://[^\s<>\"'`{}|\\^]*")

#: (module, URL) → why that URL may stay where it is; an entry no longer needed fails the test
ALLOWED: dict[tuple[str, str], str] = {
    ("apps/sdk/resources.py", "https://host/NAME/"):
        "the shape of a pod URL, shown in an error message; not an IRI anyone dereferences",
}


def _documentation(tree: ast.AST) -> set[int]:
    """ids of the string constants that only document: docstrings, and any other bare string
    statement (attribute docstrings), which the program never reads."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)}


def _constants(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every string constant the program reads (f-strings' literal parts too), with its line."""
    skip = _documentation(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.value, node.lineno


def _example(host: str) -> bool:
    """A host reserved for examples or loopback (RFC 2606 §2-3, RFC 6761 §6.3)."""
    labels = host.rstrip(".").split(".")
    return (host in ("127.0.0.1", "::1") or labels[-1] in ("example", "localhost", "test",
                                                             "invalid")
            or ".".join(labels[-2:]) in ("example.com", "example.org", "example.net"))


def _spelled(text: str) -> list[str]:
    """The IRIs ``text`` spells: every http(s) URL with a host that is no example's (without
    the punctuation of the sentence around it)."""
    urls = (m.group(0).rstrip(".,;:)…") for m in URL.finditer(text))
    return [url for url in urls if (host := urlsplit(url).hostname) and not _example(host)]


def _offences(source: str, module: str) -> list[tuple[str, int, str]]:
    return [(module, line, iri) for text, line in _constants(ast.parse(source))
            for iri in _spelled(text)]


def _modules() -> Iterator[tuple[str, str]]:
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text()


def test_no_server_or_app_module_spells_an_iri() -> None:
    found = [o for module, source in _modules() for o in _offences(source, module)]
    offences = [f"{m}:{line}: {iri}" for m, line, iri in found if (m, iri) not in ALLOWED]
    assert not offences, ("IRIs spelled outside vocab/ (name them through vocab.namespaces, "
                          "vocab.terms or vocab.contexts):\n" + "\n".join(offences))
    used = {(m, iri) for m, _, iri in found}
    assert not set(ALLOWED) - used, f"allow-list entries no longer needed: {set(ALLOWED) - used}"


def test_the_check_sees_what_it_should() -> None:
    """The check itself: literal IRIs in code, f-strings and prefix declarations are caught;
    docstrings, scheme checks and example or loopback URLs are not."""
    source = '''"""Module docstring naming http://www.w3.org/ns/ldp#contains."""
A = "http://www.w3.org/ns/ldp#"
B = f"<http://xmlns.com/foaf/0.1/{name}>"
C = "@prefix schema: <https://schema.org/>."
D = value.startswith(("https://", "http://"))
E = ("http://127.0.0.1:8000/", f"http://{host}:{port}/", "e.g. https://pod.example/")
F = "@prefix schema: <http://schema.org/>."
def f():
    """http://purl.org/dc/terms/ in a docstring."""
    "an attribute docstring: https://w3id.org/dpv#"
'''
    found = {(line, iri) for _, line, iri in _offences(source, "m.py")}
    assert found == {(2, "http://www.w3.org/ns/ldp#"), (3, "http://xmlns.com/foaf/0.1/"),
                     (4, "https://schema.org/"), (7, "http://schema.org/")}


@pytest.mark.parametrize("term", [ns.LDP.contains, ns.RDF.type, ns.XSD.dateTime, CP.Contribution,
                                  ns.SCHEMA.name, ns.SEC.proof])
def test_terms_give_plain_strings_and_pyoxigraph_nodes(term: object) -> None:
    as_str = ns.iri_of(term)  # type: ignore[arg-type]
    assert type(as_str) is str and as_str == str(term)
    assert ns.node_of(term) == ox.NamedNode(as_str)  # type: ignore[arg-type]


def test_namespaces_give_their_base_as_a_plain_string() -> None:
    assert type(ns.namespace_of(ns.LDP)) is str
    assert ns.iri_of(ns.LDP.contains) == ns.namespace_of(ns.LDP) + "contains"


def test_a_misspelt_term_raises_before_it_becomes_a_string_or_node() -> None:
    with pytest.raises(AttributeError):
        ns.node_of(ns.LDP.contians)
    with pytest.raises(AttributeError):
        ns.iri_of(ns.ACL["reed"])


def _closed() -> list[type]:
    """Every namespace class ``vocab`` declares."""
    base = rdflib_namespace.DefinedNamespace
    return sorted({v for module in (ns, terms) for v in vars(module).values()
                   if isinstance(v, type) and issubclass(v, base) and v is not base},
                  key=lambda v: v.__name__)


CLOSED = _closed()


@pytest.mark.parametrize("namespace", CLOSED, ids=[c.__name__ for c in CLOSED])
def test_every_namespace_vocab_declares_is_closed(namespace: type) -> None:
    with pytest.raises(AttributeError):
        ns.iri_of(namespace.misspeltTerm)
    assert ns.namespace_of(namespace).startswith(("http://", "https://"))

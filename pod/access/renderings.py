"""The owner's access log rendered for programs: JSON, and Turtle as an Activity Streams 2.0
collection (one ``as:Activity`` per record; an aggregate is also an ``as:Collection`` of the
requests it counts, with ``as:totalItems``, ``as:startTime`` and ``as:endTime``)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import pyoxigraph as ox

from pod.access.audit import AccessRecord, utc_iso
from vocab.namespaces import ACL, AS, HTTP, RDF, XSD, namespace_of, node_of

RDF_TYPE = node_of(RDF.type)
PREFIXES = {"as": namespace_of(AS), "acl": namespace_of(ACL), "http": namespace_of(HTTP),
            "xsd": namespace_of(XSD)}
ACL_MODES = {"read": node_of(ACL.Read), "append": node_of(ACL.Append),
             "write": node_of(ACL.Write), "control": node_of(ACL.Control)}
_MODE = node_of(ACL.mode)
_METHOD = node_of(HTTP.methodName)
_DATE_TIME, _INTEGER = node_of(XSD.dateTime), node_of(XSD.integer)
_COUNT = node_of(XSD.nonNegativeInteger)


@cache
def _as(term: str) -> ox.NamedNode:
    """An Activity Streams term as a node, made once (a misspelt term raises)."""
    return node_of(AS[term])


def _iri(value: str) -> ox.NamedNode | None:
    """``value`` as an IRI node when it is an absolute http(s) IRI."""
    if not value.startswith(("https://", "http://")):
        return None
    try:
        return ox.NamedNode(value)
    except ValueError:
        return None


def _time(at: float) -> ox.Literal:
    return ox.Literal(utc_iso(at), datatype=_DATE_TIME)


def _aggregate(act: ox.BlankNode, rec: AccessRecord) -> list[ox.Triple]:
    """What an aggregate adds to its activity: how many requests, when, more targets."""
    outcome = "allowed" if rec.allowed else "refused"
    summary = (f"{rec.requests} anonymous reads, counted together" if rec.reads
               else f"{rec.requests} more {outcome} requests, counted together")
    out = [ox.Triple(act, RDF_TYPE, _as("Collection")),
           ox.Triple(act, _as("totalItems"), ox.Literal(
               str(rec.requests), datatype=_COUNT)),
           ox.Triple(act, _as("startTime"), _time(rec.first)),
           ox.Triple(act, _as("endTime"), _time(rec.at)),
           ox.Triple(act, _as("summary"), ox.Literal(summary))]
    for target in rec.targets[1:]:
        out.append(ox.Triple(act, _as("object"), _iri(target) or ox.Literal(target)))
    return out


def to_json(records: Iterable[AccessRecord], log_url: str) -> dict[str, Any]:
    """The JSON rendering: ``{"id": log_url, "records": [...]}``."""
    items = [r.to_json() for r in records]
    return {"id": log_url, "count": len(items), "records": items}


def to_turtle(records: Iterable[AccessRecord], log_url: str) -> bytes:
    """The log as Turtle: an ``as:Collection`` of one ``as:Activity`` per record."""
    log_node = ox.NamedNode(log_url)
    triples = [ox.Triple(log_node, RDF_TYPE, _as("Collection"))]
    count = 0
    for rec in records:
        count += 1
        act = ox.BlankNode()
        triples += [
            ox.Triple(log_node, _as("items"), act),
            ox.Triple(act, RDF_TYPE, _as("Activity")),
            ox.Triple(act, _as("published"), ox.Literal(
                rec.to_json()["at"], datatype=_DATE_TIME)),
            ox.Triple(act, _METHOD, ox.Literal(rec.method)),
            ox.Triple(act, _as("result"), ox.Literal(str(rec.status), datatype=_INTEGER)),
        ]
        target = _iri(rec.target)
        triples.append(ox.Triple(act, _as("object"), target or ox.Literal(rec.target)))
        if rec.mode in ACL_MODES:
            triples.append(ox.Triple(act, _MODE, ACL_MODES[rec.mode]))
        actor = _iri(rec.agent) if rec.agent else None
        if actor is not None:  # anonymous: no actor
            triples.append(ox.Triple(act, _as("actor"), actor))
        if rec.app is not None:
            app = _iri(rec.app)
            if app is None:  # an opaque client id: an Application named by it
                app_node = ox.BlankNode()
                triples += [ox.Triple(app_node, RDF_TYPE, _as("Application")),
                            ox.Triple(app_node, _as("name"), ox.Literal(rec.app))]
                triples.append(ox.Triple(act, _as("instrument"), app_node))
            else:
                triples.append(ox.Triple(act, _as("instrument"), app))
        grant = _iri(rec.grant) if rec.grant else None
        if grant is not None:
            triples.append(ox.Triple(act, _as("context"), grant))
        if rec.requests:
            triples += _aggregate(act, rec)
    triples.append(ox.Triple(log_node, _as("totalItems"), ox.Literal(
        str(count), datatype=_COUNT)))
    out = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    assert out is not None  # given no output to write to, pyoxigraph returns the bytes
    return out


__all__ = ["to_json", "to_turtle"]

"""The owner's contributions as the contributions page lists and edits them
(docs/contributions.md): one document per contribution, in the container the owner's type
index registers for ``cp:Contribution``.

The form's fields become the statements the shape (``vocab/shapes.ttl``) checks; what the form
cannot say well (a word where an address belongs, a number that is none) is written as the
text it is, so the shape — the one judge, on every write through the resource service — refuses
it, and :func:`field_errors` puts each of its violations beside the field it concerns. Editing
replaces only the statements the form shows; anything else an app wrote in the document stays.
Documents are written as a PUT by the owner's WebID (:mod:`pod.access.browsing`): a new one with
``If-None-Match: *``, a changed one conditional on the version the form was made from.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from pod.access.agent import Agent
from pod.access.browsing import PodBrowsing
from pod.errors import BadRequest, NotFound, PodError, PreconditionFailed
from pod.resources import rdf
from pod.resources.conditions import Conditions
from pod.resources.paths import Target, parse_target
from pod.store.sealed import PodKeys
from vocab.namespaces import OM2, RDF, SCHEMA, VF, XSD, iri_of, node_of
from vocab.prefixes import compact
from vocab.terms import CP, terms

TYPE, CONTRIBUTION = node_of(RDF.type), node_of(CP.Contribution)
ACTION, WORK, PROVIDER = node_of(VF.action), node_of(VF.work), node_of(VF.provider)
SCOPE, RECEIVER, KIND = node_of(VF.inScopeOf), node_of(VF.receiver), node_of(
    VF.resourceClassifiedAs)
NAME, DESCRIPTION = node_of(SCHEMA.name), node_of(SCHEMA.description)
AT, BEGINNING, END = node_of(VF.hasPointInTime), node_of(VF.hasBeginning), node_of(VF.hasEnd)
EFFORT, EVIDENCE = node_of(VF.effortQuantity), node_of(CP.evidence)
VALUE, UNIT, HOUR = node_of(OM2.hasNumericalValue), node_of(OM2.hasUnit), node_of(OM2.hour)
DATE, DATE_TIME, DECIMAL = node_of(XSD.date), node_of(XSD.dateTime), node_of(XSD.decimal)
MANAGED = (ACTION, PROVIDER, SCOPE, RECEIVER, KIND, NAME, DESCRIPTION, AT, BEGINNING, END,
           EFFORT, EVIDENCE)
CLASS = iri_of(CP.Contribution)
MAX_LISTED = 500
_SLUG = re.compile(r"[^a-z0-9]+")

#: the shape's property paths (as its violations name them) → the form field they concern
FIELDS = {compact(p.value): f for p, f in (
    (SCOPE, "scope"), (RECEIVER, "receiver"), (KIND, "kinds"), (NAME, "name"),
    (DESCRIPTION, "description"), (AT, "date"), (BEGINNING, "beginning"), (END, "end"),
    (EFFORT, "hours"), (EVIDENCE, "evidence"))}
OR_CONSTRAINT = "sh:OrConstraintComponent"  # "a contribution needs a time"


@dataclass(frozen=True, slots=True)
class Kind:
    """A contribution kind: a SKOS concept of ``cp:ContributionKinds``."""

    iri: str
    label: str
    comment: str


def kinds() -> list[Kind]:
    """The eight kinds the vocabulary defines, in its order."""
    return [Kind(t.iri, t.label, t.comment) for t in terms() if t.kind == "concept"]


@dataclass
class ContributionForm:
    """The contribution page's fields, as text (what the owner typed, or what is stored)."""

    name: str = ""
    description: str = ""
    kinds: list[str] = field(default_factory=list)
    scope: str = ""
    receiver: str = ""
    date: str = ""
    beginning: str = ""
    end: str = ""
    hours: str = ""
    evidence: str = ""  # one link per line
    document: str = ""  # the document's URL; empty for a new contribution
    version: str = ""  # the ETag the form was made from


@dataclass(frozen=True, slots=True)
class Listed:
    """One contribution as the list shows it."""

    document: str
    subject: str
    form: ContributionForm

    @property
    def sort_key(self) -> str:
        return self.form.date or self.form.end or self.form.beginning


def _term(value: str) -> ox.NamedNode | ox.Literal:
    """An IRI when ``value`` is an absolute one, else the text itself (which the shape
    refuses wherever it wants an IRI)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", value):
        try:
            return ox.NamedNode(value)
        except ValueError:
            pass
    return ox.Literal(value)


def _instant(value: str) -> ox.Literal:
    """A day as ``xsd:date``, a moment as ``xsd:dateTime``, anything else as text."""
    try:
        return ox.Literal(date.fromisoformat(value).isoformat(), datatype=DATE)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ox.Literal(value)
    return ox.Literal(moment.isoformat(), datatype=DATE_TIME)


def _amount(value: str) -> ox.Literal:
    """A number of hours as ``xsd:decimal``; anything else (words, infinity) as text."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return ox.Literal(value)
    written = format(number, "f") if number.is_finite() else ""
    if not written or len(written) > 40:
        return ox.Literal(value)
    return ox.Literal(written, datatype=DECIMAL)


def triples_of(form: ContributionForm, subject: ox.NamedNode, webid: str
               ) -> list[ox.Triple]:
    """The statements the form makes about ``subject``."""
    out = [ox.Triple(subject, TYPE, CONTRIBUTION), ox.Triple(subject, ACTION, WORK),
           ox.Triple(subject, PROVIDER, ox.NamedNode(webid))]

    def add(predicate: ox.NamedNode, value: ox.NamedNode | ox.Literal | ox.BlankNode) -> None:
        out.append(ox.Triple(subject, predicate, value))
    name = " ".join(form.name.split())
    if name:
        add(NAME, ox.Literal(name))
    if form.description.strip():
        add(DESCRIPTION, ox.Literal(form.description.strip().replace("\r\n", "\n")))
    for kind in dict.fromkeys(form.kinds):
        add(KIND, _term(kind.strip()))
    for predicate, value in ((SCOPE, form.scope), (RECEIVER, form.receiver)):
        if value.strip():
            add(predicate, _term(value.strip()))
    for predicate, value in ((AT, form.date), (BEGINNING, form.beginning), (END, form.end)):
        if value.strip():
            add(predicate, _instant(value.strip()))
    if form.hours.strip():
        effort = ox.BlankNode()
        add(EFFORT, effort)
        out += [ox.Triple(effort, VALUE, _amount(form.hours.strip())),
                ox.Triple(effort, UNIT, HOUR)]
    for line in dict.fromkeys(x.strip() for x in form.evidence.splitlines() if x.strip()):
        add(EVIDENCE, _term(line))
    return out


def form_of(triples: list[ox.Triple], subject: ox.NamedNode | ox.BlankNode) -> ContributionForm:
    """The form's fields as the stored statements about ``subject`` give them."""
    def values(predicate: ox.NamedNode) -> list[str]:
        return [t.object.value for t in triples if t.subject == subject
                and t.predicate == predicate and not isinstance(t.object, ox.Triple)]
    first = {p: next(iter(values(p)), "") for p in (NAME, DESCRIPTION, SCOPE, RECEIVER, AT,
                                                      BEGINNING, END)}
    hours = ""
    for t in triples:
        if t.subject == subject and t.predicate == EFFORT and \
                isinstance(t.object, ox.BlankNode | ox.NamedNode):
            hours = next((u.object.value for u in triples if u.subject == t.object
                          and u.predicate == VALUE and isinstance(u.object, ox.Literal)), "")
    return ContributionForm(first[NAME], first[DESCRIPTION], sorted(values(KIND)),
                            first[SCOPE], first[RECEIVER], first[AT], first[BEGINNING],
                            first[END], hours, "\n".join(sorted(values(EVIDENCE))))


def replaced(triples: list[ox.Triple], subject: ox.NamedNode, new: list[ox.Triple]
             ) -> list[ox.Triple]:
    """``triples`` with the form's statements about ``subject`` (and the effort's own
    statements) replaced by ``new``; every other statement kept."""
    efforts = {t.object for t in triples if t.subject == subject and t.predicate == EFFORT}
    kept = [t for t in triples if not (t.subject == subject and t.predicate in MANAGED)
            and t.subject not in efforts and not (t.subject == subject and t.predicate == TYPE
                                                  and t.object == CONTRIBUTION)]
    return kept + new


def field_errors(error: PodError) -> dict[str, list[str]]:
    """A refused write's reasons by form field (``form`` for the rest): the shape's
    violations by their property path, any other refusal as a whole."""
    violations = error.extra.get("violations")
    if not isinstance(violations, list):
        return {"form": [error.detail]}
    out: dict[str, list[str]] = {}
    for v in violations:
        path, constraint = v.get("path"), v.get("constraint")
        where = FIELDS.get(path or "") or ("date" if not path and constraint == OR_CONSTRAINT
                                           else "form")
        message = str(v.get("message", "a constraint failed"))
        out.setdefault(where, [])
        if message not in out[where]:
            out[where].append(message)
    return out


def slug(name: str) -> str:
    """A document name from a contribution's name, made unique with a random suffix."""
    words = _SLUG.sub("-", name.lower()).strip("-")[:40].strip("-")
    return f"{words or 'contribution'}-{secrets.token_hex(3)}"


class Contributions:
    """Lists, reads and writes the owner's contributions as the owner's WebID."""

    def __init__(self, browsing: PodBrowsing):
        self.browsing = browsing
        self.resources = browsing.resources

    async def container(self, keys: PodKeys, pod: str) -> str:
        """The container new contributions go to: the first registered for the class."""
        found = await self.resources.registered(keys, pod, CLASS)
        if not found:
            raise NotFound("your type index registers no container for contributions")
        return found[0]

    async def listing(self, keys: PodKeys, pod: str, webid: str) -> list[Listed]:
        """Every contribution in the registered containers, newest first."""
        collected = await self.browsing.reads.collect(keys, pod, CLASS, Agent(webid=webid))
        triples = collected.triples
        subjects = {t.subject for t in triples if t.predicate == TYPE and t.object == CONTRIBUTION
                    and isinstance(t.subject, ox.NamedNode)}
        out = [Listed(s.value.partition("#")[0], s.value, form_of(triples, s))
               for s in subjects]
        out.sort(key=lambda c: (c.sort_key, c.form.name), reverse=True)
        return out[:MAX_LISTED]

    async def _target(self, keys: PodKeys, pod: str, url: str) -> Target:
        """The document ``url`` names, when it lies in a container registered for
        contributions of ``pod``."""
        containers = await self.resources.registered(keys, pod, CLASS)
        if not any(url.startswith(c) and len(url) > len(c) for c in containers) \
                or "#" in url or "?" in url:
            raise BadRequest("that is not one of your contributions")
        target = parse_target("/" + url[len(self.resources.base_url):])
        if target.is_container or target.aux:
            raise BadRequest("that is not one of your contributions")
        return target

    async def _read(self, keys: PodKeys, target: Target, me: Agent
                    ) -> tuple[list[ox.Triple], ox.NamedNode, str]:
        """A contribution document's triples, its contribution and its version (ETag)."""
        res = (await self.browsing.view(keys, target, me)).resource
        if res is None:
            raise NotFound("there is no such contribution (it may have been deleted)")
        url = self.resources.url(target)
        triples = rdf.parse(res.body, res.content_type, url)
        subject = next((t.subject for t in triples if t.predicate == TYPE
                        and t.object == CONTRIBUTION and isinstance(t.subject, ox.NamedNode)),
                       ox.NamedNode(url + "#it"))
        assert isinstance(subject, ox.NamedNode)
        return triples, subject, res.etag

    async def read(self, keys: PodKeys, pod: str, webid: str, url: str) -> ContributionForm:
        """The form for the contribution in document ``url``."""
        target = await self._target(keys, pod, url)
        triples, subject, etag = await self._read(keys, target, Agent(webid=webid))
        form = form_of(triples, subject)
        form.document, form.version = self.resources.url(target), etag
        return form

    async def save(self, keys: PodKeys, pod: str, webid: str, form: ContributionForm) -> str:
        """Write the form: a new document, or the one it was made from (if unchanged since);
        the document's URL. Raises the resource service's errors (422 with the shape's
        violations) having written nothing."""
        me = Agent(webid=webid)
        if not form.document:
            container = await self.container(keys, pod)
            target = parse_target("/" + container[len(self.resources.base_url):]
                                  + slug(form.name))
            url = self.resources.url(target)
            body = triples_of(form, ox.NamedNode(url + "#it"), webid)
            await self.browsing.put(keys, target, me, rdf.serialize(body, rdf.TURTLE),
                                    rdf.TURTLE, Conditions(if_none_match=frozenset({"*"})))
            return url
        target = await self._target(keys, pod, form.document)
        triples, subject, _ = await self._read(keys, target, me)
        body = replaced(triples, subject, triples_of(form, subject, webid))
        await self.browsing.put(keys, target, me, rdf.serialize(body, rdf.TURTLE), rdf.TURTLE,
                                Conditions(if_match=frozenset({form.version or "-"})))
        return self.resources.url(target)

    async def delete(self, keys: PodKeys, pod: str, webid: str, url: str, version: str
                     ) -> None:
        """Delete the contribution in document ``url`` if it is still ``version`` (the one
        the confirmation showed), so nothing is deleted that the owner did not see."""
        target = await self._target(keys, pod, url)
        me = Agent(webid=webid)
        _, _, etag = await self._read(keys, target, me)
        if version != etag:
            raise PreconditionFailed("the contribution was changed since you looked at it")
        await self.browsing.delete(keys, target, me, [target.path])


__all__ = ["ContributionForm", "Contributions", "Kind", "Listed", "field_errors", "kinds"]

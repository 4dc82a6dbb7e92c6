"""Every RDF term the project uses, as closed namespaces: a misspelt term raises
``AttributeError`` (attribute or ``NS["term"]`` lookup), never a silent new IRI.

Only terms Commonpod actually reads or writes are listed; add a term here before using it.
Code outside ``vocab/`` spells no IRI (``tests/test_vocab_only.py``): it names a term here and
takes it as a plain string (:func:`iri_of`), a pyoxigraph node (:func:`node_of`), or a
namespace's own IRI (:func:`namespace_of`) — once, as a module constant, never per request on a
hot path.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef


def iri_of(term: URIRef) -> str:
    """A term as a plain ``str``: a ``URIRef`` never equals the same IRI as a ``str``, nor a
    pyoxigraph node's ``value``."""
    return str(term)


def node_of(term: URIRef) -> ox.NamedNode:
    """A term as a pyoxigraph node."""
    return ox.NamedNode(term)


def namespace_of(namespace: type[DefinedNamespace]) -> str:
    """A namespace's own IRI (for Turtle ``@prefix`` lines and prefix maps)."""
    return str(namespace._NS)


class LDP(DefinedNamespace):
    """Linked Data Platform (https://www.w3.org/TR/ldp/)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/ldp#")

    Resource: URIRef
    RDFSource: URIRef
    NonRDFSource: URIRef
    Container: URIRef
    BasicContainer: URIRef
    contains: URIRef
    inbox: URIRef


class ACL(DefinedNamespace):
    """Web Access Control (https://solidproject.org/TR/wac)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/auth/acl#")

    Authorization: URIRef
    AuthenticatedAgent: URIRef
    Read: URIRef
    Write: URIRef
    Append: URIRef
    Control: URIRef
    accessTo: URIRef
    default: URIRef
    agent: URIRef
    agentClass: URIRef
    agentGroup: URIRef
    origin: URIRef
    mode: URIRef


class SOLID(DefinedNamespace):
    """Solid terms (http://www.w3.org/ns/solid/terms#)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/terms#")

    StorageDescription: URIRef
    Patch: URIRef
    InsertDeletePatch: URIRef
    TypeIndex: URIRef
    ListedDocument: URIRef
    UnlistedDocument: URIRef
    TypeRegistration: URIRef
    forClass: URIRef
    instanceContainer: URIRef
    instance: URIRef
    publicTypeIndex: URIRef
    privateTypeIndex: URIRef
    oidcIssuer: URIRef
    owner: URIRef
    storageDescription: URIRef
    where: URIRef
    inserts: URIRef
    deletes: URIRef


class PIM(DefinedNamespace):
    """Workspace vocabulary (http://www.w3.org/ns/pim/space#)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/pim/space#")

    Storage: URIRef
    ConfigurationFile: URIRef
    storage: URIRef
    preferencesFile: URIRef


class FOAF(DefinedNamespace):
    """Friend of a Friend (http://xmlns.com/foaf/0.1/)."""

    _fail = True
    _NS = Namespace("http://xmlns.com/foaf/0.1/")

    Agent: URIRef
    Person: URIRef
    PersonalProfileDocument: URIRef
    primaryTopic: URIRef
    maker: URIRef
    name: URIRef


class VCARD(DefinedNamespace):
    """vCard ontology (http://www.w3.org/2006/vcard/ns#)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/2006/vcard/ns#")

    Group: URIRef
    hasMember: URIRef
    fn: URIRef
    hasPhoto: URIRef  # the profile editor (auth/profiles.py): a photo, a bio, links
    note: URIRef
    url: URIRef


class RDF(DefinedNamespace):
    """The RDF terms we use (http://www.w3.org/1999/02/22-rdf-syntax-ns#)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")

    type: URIRef
    JSON: URIRef
    HTML: URIRef
    langString: URIRef


class XSD(DefinedNamespace):
    """XML Schema datatypes (http://www.w3.org/2001/XMLSchema#)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/2001/XMLSchema#")

    string: URIRef
    boolean: URIRef
    integer: URIRef
    decimal: URIRef
    double: URIRef
    date: URIRef
    dateTime: URIRef
    dateTimeStamp: URIRef
    anyURI: URIRef
    nonNegativeInteger: URIRef


class DCTERMS(DefinedNamespace):
    """DCMI Metadata Terms (http://purl.org/dc/terms/)."""

    _fail = True
    _NS = Namespace("http://purl.org/dc/terms/")

    created: URIRef
    modified: URIRef
    title: URIRef
    description: URIRef
    issued: URIRef


class SCHEMA(DefinedNamespace):
    """The schema.org terms we use (https://schema.org/; VC 2.0 maps ``name`` and
    ``description`` there)."""

    _fail = True
    _NS = Namespace("https://schema.org/")

    Person: URIRef
    name: URIRef
    description: URIRef
    AggregateRating: URIRef
    author: URIRef
    ratingValue: URIRef
    worstRating: URIRef
    bestRating: URIRef
    ratingCount: URIRef
    ratingExplanation: URIRef
    version: URIRef
    identifier: URIRef


class SCHEMA_HTTP(DefinedNamespace):
    """schema.org under its ``http:`` IRIs, as many Solid profiles use it: new pods' WebID
    profiles type their owner ``schema:Person`` here (``pod/resources/provision.py``)."""

    _fail = True
    _NS = Namespace("http://schema.org/")

    Person: URIRef


class SEC(DefinedNamespace):
    """Security vocabulary: Data Integrity proofs and Multikey (https://w3id.org/security#)."""

    _fail = True
    _NS = Namespace("https://w3id.org/security#")

    DataIntegrityProof: URIRef
    Multikey: URIRef
    proof: URIRef
    cryptosuite: URIRef
    cryptosuiteString: URIRef
    proofPurpose: URIRef
    proofValue: URIRef
    verificationMethod: URIRef
    assertionMethod: URIRef
    authentication: URIRef
    controller: URIRef
    publicKeyMultibase: URIRef
    multibase: URIRef


class CRED(DefinedNamespace):
    """W3C Verifiable Credentials (https://www.w3.org/2018/credentials#)."""

    _fail = True
    _NS = Namespace("https://www.w3.org/2018/credentials#")

    VerifiableCredential: URIRef
    VerifiablePresentation: URIRef
    credentialSubject: URIRef
    issuer: URIRef
    validFrom: URIRef
    validUntil: URIRef
    issuanceDate: URIRef
    expirationDate: URIRef
    credentialStatus: URIRef
    evidence: URIRef


__all__ = ["ACL", "CRED", "DCTERMS", "FOAF", "LDP", "PIM", "RDF", "SCHEMA", "SCHEMA_HTTP", "SEC",
           "SOLID", "VCARD", "XSD", "iri_of", "namespace_of", "node_of"]


class DPV(DefinedNamespace):
    """Data Privacy Vocabulary 2.x (https://w3id.org/dpv): the purposes apps may declare
    (see :mod:`vocab.purposes`)."""

    _fail = True
    _NS = Namespace("https://w3id.org/dpv#")

    Purpose: URIRef
    hasPurpose: URIRef
    # consent, as access grants record it (pod/access/grants.py)
    Consent: URIRef
    ConsentGiven: URIRef
    ConsentWithdrawn: URIRef
    hasConsentStatus: URIRef
    hasLegalBasis: URIRef
    AcademicResearch: URIRef
    AccountManagement: URIRef
    CommunicationForCustomerCare: URIRef
    CommunicationManagement: URIRef
    CustomerCare: URIRef
    DisputeManagement: URIRef
    EnforceAccessControl: URIRef
    EnforceSecurity: URIRef
    FraudPreventionAndDetection: URIRef
    HumanResourceManagement: URIRef
    IdentityAuthentication: URIRef
    IdentityVerification: URIRef
    IncreaseServiceRobustness: URIRef
    LegalCompliance: URIRef
    Marketing: URIRef
    MemberPartnerManagement: URIRef
    NonCommercialResearch: URIRef
    OptimiseUserInterface: URIRef
    OrganisationComplianceManagement: URIRef
    OrganisationGovernance: URIRef
    PaymentManagement: URIRef
    Personalisation: URIRef
    ProvideEventRecommendations: URIRef
    ProvidePersonalisedRecommendations: URIRef
    PublicRelations: URIRef
    RecordManagement: URIRef
    RepairImpairments: URIRef
    RequestedServiceProvision: URIRef
    ResearchAndDevelopment: URIRef
    ServiceManagement: URIRef
    ServiceMonitoring: URIRef
    ServiceOptimisation: URIRef
    ServicePersonalisation: URIRef
    ServiceProvision: URIRef
    ServiceRegistration: URIRef
    ServiceUsageAnalytics: URIRef
    TechnicalServiceProvision: URIRef
    UserInterfacePersonalisation: URIRef


__all__ += ["DPV"]


class ODRL(DefinedNamespace):
    """ODRL Information Model 2.2 (http://www.w3.org/ns/odrl/2/): an access grant is an
    agreement whose permissions carry a purpose and an end date (docs/vocabulary.md)."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/odrl/2/")

    Agreement: URIRef
    action: URIRef
    append: URIRef
    assignee: URIRef
    assigner: URIRef
    constraint: URIRef
    dateTime: URIRef
    eq: URIRef
    leftOperand: URIRef
    lt: URIRef
    modify: URIRef
    operator: URIRef
    permission: URIRef
    purpose: URIRef
    read: URIRef
    rightOperand: URIRef
    target: URIRef
    uid: URIRef


__all__ += ["ODRL"]


class VF(DefinedNamespace):
    """ValueFlows (https://w3id.org/valueflows/ont/vf#): contributions are economic events,
    thanks are appreciations (docs/vocabulary.md)."""

    _fail = True
    _NS = Namespace("https://w3id.org/valueflows/ont/vf#")

    Appreciation: URIRef
    action: URIRef
    work: URIRef
    provider: URIRef
    receiver: URIRef
    inScopeOf: URIRef
    resourceClassifiedAs: URIRef
    hasPointInTime: URIRef
    hasBeginning: URIRef
    hasEnd: URIRef
    effortQuantity: URIRef
    appreciationOf: URIRef
    appreciationWith: URIRef


class OM2(DefinedNamespace):
    """Ontology of units of Measure 2 (http://www.ontology-of-units-of-measure.org/resource/om-2/):
    a contribution's effort."""

    _fail = True
    _NS = Namespace("http://www.ontology-of-units-of-measure.org/resource/om-2/")

    hasNumericalValue: URIRef
    hasUnit: URIRef
    hour: URIRef


class OBV3(DefinedNamespace):
    """Open Badges 3.0 (https://purl.imsglobal.org/spec/vc/ob/vocab.html#): reward statements."""

    _fail = True
    _NS = Namespace("https://purl.imsglobal.org/spec/vc/ob/vocab.html#")

    OpenBadgeCredential: URIRef
    EndorsementCredential: URIRef
    Achievement: URIRef
    AchievementSubject: URIRef
    Profile: URIRef
    Evidence: URIRef
    achievement: URIRef
    Criteria: URIRef  # OB 3.0's context maps the property ``criteria`` to this IRI
    narrative: URIRef
    image: URIRef


class PROV(DefinedNamespace):
    """PROV-O (http://www.w3.org/ns/prov#): how a reputation statement was derived."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/prov#")

    Entity: URIRef
    Activity: URIRef
    Plan: URIRef
    wasGeneratedBy: URIRef
    wasDerivedFrom: URIRef
    used: URIRef
    endedAtTime: URIRef
    wasAssociatedWith: URIRef
    qualifiedAssociation: URIRef
    agent: URIRef
    hadPlan: URIRef
    wasRevisionOf: URIRef
    wasAttributedTo: URIRef
    generatedAtTime: URIRef


__all__ += ["OBV3", "OM2", "PROV", "VF"]


class AS(DefinedNamespace):
    """Activity Streams 2.0 (https://www.w3.org/ns/activitystreams#): the access log's Turtle,
    an app as a grant's party, notifications in an inbox (Linked Data Notifications) when
    something is shared."""

    _fail = True
    _NS = Namespace("https://www.w3.org/ns/activitystreams#")

    Activity: URIRef
    Announce: URIRef
    Application: URIRef
    Collection: URIRef
    Offer: URIRef
    actor: URIRef
    context: URIRef
    endTime: URIRef
    instrument: URIRef
    items: URIRef
    name: URIRef
    object: URIRef
    published: URIRef
    result: URIRef
    startTime: URIRef
    summary: URIRef
    target: URIRef
    totalItems: URIRef


class HTTP(DefinedNamespace):
    """HTTP Vocabulary in RDF 1.0 (http://www.w3.org/2011/http#): a logged request's method."""

    _fail = True
    _NS = Namespace("http://www.w3.org/2011/http#")

    methodName: URIRef


class NOTIFY(DefinedNamespace):
    """Solid Notifications Protocol 0.2 (http://www.w3.org/ns/solid/notifications#): the
    storage description's subscription services, their channel types and features."""

    _fail = True
    _NS = Namespace("http://www.w3.org/ns/solid/notifications#")

    WebSocketChannel2023: URIRef
    WebhookChannel2023: URIRef
    accept: URIRef
    channelType: URIRef
    endAt: URIRef
    feature: URIRef
    rate: URIRef
    receiveFrom: URIRef
    sendTo: URIRef
    startAt: URIRef
    state: URIRef
    subscription: URIRef
    topic: URIRef


#: The JSON-LD contexts of a subscription and of a notification (Solid Notifications Protocol
#: §7 and §8; Activity Streams 2.0 §2.1), named by IRI, never fetched
NOTIFICATION_CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
ACTIVITY_STREAMS_CONTEXT = "https://www.w3.org/ns/activitystreams"

#: The Solid-OIDC specification's IRI, the value of an OpenID Provider's ``solid_oidc_supported``
#: discovery metadata
SOLID_OIDC = "https://solidproject.org/TR/solid-oidc"

__all__ += ["ACTIVITY_STREAMS_CONTEXT", "AS", "HTTP", "NOTIFICATION_CONTEXT", "NOTIFY",
            "SOLID_OIDC"]

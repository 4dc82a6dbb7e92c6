"""Every RDF term the project uses, as closed namespaces: a misspelt term raises
``AttributeError`` (attribute or ``NS["term"]`` lookup), never a silent new IRI.

Only terms Commonpod actually reads or writes are listed; add a term here before using it.
"""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef


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
    InsertDeletePatch: URIRef
    TypeIndex: URIRef
    ListedDocument: URIRef
    UnlistedDocument: URIRef
    TypeRegistration: URIRef
    forClass: URIRef
    instanceContainer: URIRef
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
    anyURI: URIRef


class DCTERMS(DefinedNamespace):
    """DCMI Metadata Terms (http://purl.org/dc/terms/)."""

    _fail = True
    _NS = Namespace("http://purl.org/dc/terms/")

    created: URIRef
    modified: URIRef
    title: URIRef
    description: URIRef


class SCHEMA(DefinedNamespace):
    """The schema.org terms we use (https://schema.org/; VC 2.0 maps ``name`` and
    ``description`` there)."""

    _fail = True
    _NS = Namespace("https://schema.org/")

    Person: URIRef
    name: URIRef
    description: URIRef


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


__all__ = ["ACL", "CRED", "DCTERMS", "FOAF", "LDP", "PIM", "RDF", "SCHEMA", "SEC", "SOLID",
           "VCARD", "XSD"]


class DPV(DefinedNamespace):
    """Data Privacy Vocabulary 2.x (https://w3id.org/dpv): the purposes apps may declare
    (see :mod:`vocab.purposes`)."""

    _fail = True
    _NS = Namespace("https://w3id.org/dpv#")

    Purpose: URIRef
    hasPurpose: URIRef
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

"""The purposes an app may name when it asks for access: a curated part of the Data Privacy
Vocabulary's purpose taxonomy (DPV 2.x, namespace ``https://w3id.org/dpv#``, prefix ``dpv``).

An app declares each purpose as a DPV purpose IRI plus a sentence of its own; an IRI not listed
here is refused (:func:`purpose` answers ``None``). The list keeps the purposes a community app
plausibly has — running, managing and improving a service, communicating with members,
governing the community, security, research — and leaves out the commercial ones (selling
data or insights, advertising, credit checking).

Sources (checked 2026-11): the namespace and prefix from the DPV specification
(https://w3id.org/dpv, "The namespace for DPV terms is https://w3id.org/dpv#"); every concept
name and its DPV definition from the DPVCG's ``dpv/modules/purposes.csv`` (github.com/w3c/dpv),
and each name's presence in DPV 2.3 from a generated term list of DPV Core v2.3 (1116 terms),
which also gives the 2.3 concepts ``ServiceManagement`` and ``ServiceMonitoring`` (DPV 2.3
re-parented ``ServiceProvision`` and its siblings under ``ServiceManagement``). Definitions below
are our own plain-language sentences, faithful to DPV's ``skos:definition``.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab.namespaces import DPV

PREFIX = "dpv:"
NAMESPACE = "https://w3id.org/dpv#"


@dataclass(frozen=True)
class Purpose:
    """A DPV purpose concept: its IRI, English label and a one-sentence definition."""

    iri: str
    label: str
    definition: str


_CURATED: tuple[tuple[str, str, str], ...] = (
    # service: running, managing, improving it
    ("ServiceManagement", "Service Management",
     "Managing a service or product as a whole: providing, monitoring, optimising it."),
    ("ServiceProvision", "Service Provision",
     "Providing the service, product or activity itself."),
    ("RequestedServiceProvision", "Requested Service Provision",
     "Delivering a service because the person asked for it (or an agreement requires it)."),
    ("TechnicalServiceProvision", "Technical Service Provision",
     "Running the technical processes and functions needed to deliver the service."),
    ("ServiceRegistration", "Service Registration",
     "Registering people and collecting what is needed to provide the service to them."),
    ("AccountManagement", "Account Management",
     "Creating, providing, maintaining and managing accounts."),
    ("ServiceMonitoring", "Service Monitoring",
     "Watching how a service performs and is used, to inform how it is managed."),
    ("ServiceUsageAnalytics", "Service Usage Analytics",
     "Analysing and reporting on how the service or product is used."),
    ("ServiceOptimisation", "Service Optimisation",
     "Making the service or activity work better."),
    ("IncreaseServiceRobustness", "Increase Service Robustness",
     "Making the service more robust and resilient."),
    ("RepairImpairments", "Repair Impairments",
     "Finding and fixing faults in existing functions, such as debugging."),
    ("OptimiseUserInterface", "Optimise User Interface",
     "Improving the interfaces presented to the user."),
    # personalisation
    ("Personalisation", "Personalisation",
     "Tailoring something to the attributes or needs of a person or context."),
    ("ServicePersonalisation", "Service Personalisation",
     "Personalising what a service, product or activity offers."),
    ("UserInterfacePersonalisation", "User Interface Personalisation",
     "Personalising the interface shown to the user, such as its language."),
    ("ProvidePersonalisedRecommendations", "Provide Personalised Recommendations",
     "Making recommendations tailored to the person."),
    ("ProvideEventRecommendations", "Provide Event Recommendations",
     "Recommending events tailored to the person."),
    # communication and care
    ("CommunicationManagement", "Communication Management",
     "Carrying out or managing communication, such as sending an email with a notice."),
    ("CustomerCare", "Customer Care",
     "Helping the people served, resolving their issues and keeping them satisfied."),
    ("CommunicationForCustomerCare", "Communication for Customer Care",
     "Communicating with the people served to help them and resolve their issues."),
    # the community as an organisation
    ("OrganisationGovernance", "Organisation Governance",
     "Carrying out the activities and functions that govern an organisation."),
    ("MemberPartnerManagement", "Members and Partners Management",
     "Keeping a register of members, partners or shareholders to govern and administer them."),
    ("HumanResourceManagement", "Human Resource Management",
     "Managing the people who work within the organisation."),
    ("DisputeManagement", "Dispute Management",
     "Handling disputes that people, bodies or authorities raise with the organisation."),
    ("OrganisationComplianceManagement", "Organisation Compliance Management",
     "Keeping the organisation compliant with its own internal policies."),
    ("RecordManagement", "Record Management",
     "Creating, storing and using records of operations and events, such as logs."),
    ("PaymentManagement", "Payment Management",
     "Processing and managing payments for a service, including invoices and records."),
    ("LegalCompliance", "Legal Compliance",
     "Processing needed to meet a legal or statutory obligation."),
    # security
    ("EnforceSecurity", "Enforce Security",
     "Ensuring and enforcing the security of data, people or related matters."),
    ("EnforceAccessControl", "Enforce Access Control",
     "Controlling who may access what, as a form of security."),
    ("IdentityAuthentication", "Identity Authentication",
     "Authenticating someone by their identity, as a form of security."),
    ("IdentityVerification", "Identity Verification",
     "Verifying that someone is who they claim to be, as a form of security."),
    ("FraudPreventionAndDetection", "Fraud Prevention and Detection",
     "Detecting, preventing and limiting fraud."),
    # research
    ("ResearchAndDevelopment", "Research and Development",
     "Researching and developing new methods, products or services."),
    ("AcademicResearch", "Academic Research",
     "Doing or helping with research in an academic setting, such as a university."),
    ("NonCommercialResearch", "Non-Commercial Research",
     "Doing research in a non-commercial setting, such as for a non-profit."),
    # outreach
    ("Marketing", "Marketing",
     "Promoting, selling or distributing the organisation's products or services."),
    ("PublicRelations", "Public Relations",
     "Managing public relations, including building goodwill for the organisation."),
)

PURPOSES: dict[str, Purpose] = {
    str(DPV[name]): Purpose(str(DPV[name]), label, definition)
    for name, label, definition in _CURATED
}


def purpose(iri: str) -> Purpose | None:
    """The curated purpose named by ``iri`` (full IRI or compact ``dpv:Name``); ``None`` when
    it is not one an app may declare."""
    if iri.startswith(PREFIX):
        iri = NAMESPACE + iri.removeprefix(PREFIX)
    return PURPOSES.get(iri)


__all__ = ["NAMESPACE", "PURPOSES", "Purpose", "purpose"]

"""The DPV purposes an app may declare (vocab/purposes.py)."""

from __future__ import annotations

import pytest

from vocab.namespaces import DPV
from vocab.purposes import NAMESPACE, PURPOSES, Purpose, purpose


def test_namespace_is_dpv_2() -> None:
    assert NAMESPACE == "https://w3id.org/dpv#" == str(DPV._NS)


def test_every_purpose_is_a_dpv_iri_with_words() -> None:
    assert 25 <= len(PURPOSES) <= 40
    for iri, p in PURPOSES.items():
        assert isinstance(p, Purpose) and p.iri == iri
        assert iri.startswith("https://w3id.org/dpv#") and iri[len(NAMESPACE):].isalnum()
        assert p.label.strip() and p.definition.strip().endswith(".")
    assert len({p.label for p in PURPOSES.values()}) == len(PURPOSES)


@pytest.mark.parametrize("name", ["ServiceProvision", "CommunicationManagement",
                                  "OrganisationGovernance", "EnforceSecurity"])
def test_full_and_compact_forms(name: str) -> None:
    full = purpose(f"https://w3id.org/dpv#{name}")
    assert full is not None and full is purpose(f"dpv:{name}")


@pytest.mark.parametrize("iri", [
    "https://w3id.org/dpv#SellDataToThirdParties",  # real DPV, deliberately not offered
    "https://w3id.org/dpv#NoSuchPurpose", "dpv:NoSuchPurpose", "dpv:", "",
    "http://w3id.org/dpv#ServiceProvision", "https://w3id.org/dpv/ServiceProvision",
    "ServiceProvision", "DPV:ServiceProvision", "https://w3id.org/dpv#serviceprovision"])
def test_unknown_purposes_are_refused(iri: str) -> None:
    assert purpose(iri) is None


def test_purposes_are_frozen() -> None:
    p = purpose("dpv:Marketing")
    assert p is not None
    with pytest.raises(AttributeError):
        p.label = "x"  # type: ignore[misc]

"""Statements the rewards app wrote into pods on a live server, verified by an independent
implementation (issue #13 §4): Digital Bazaar's `@digitalbazaar/vc` with
`@digitalbazaar/data-integrity` and `@digitalbazaar/eddsa-rdfc-2022-cryptosuite`, installed by
.ci/run into .ci/cache/node_modules, run by tests/independent_verifier.mjs.

Offline: the script's document loader serves only Commonpod's bundled contexts and the documents
this test fetched beforehand (the community's key and controller document, read from its WebID
profile, and its status list credential). The badges verify; the revoked one is revoked; a
tampered one fails. Skips only when Node.js is missing, and fails then under CI=true."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import independent
from tests.rewards_world import (
    ORGANISING,
    badges_of,
    join_all,
    record,
    rewards,
    start_world,
    stop_world,
)


@pytest.fixture(scope="module")
def node() -> str:
    return independent.node()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    found = start_world(tmp_path_factory.mktemp("independent"), {"a": ("ann", "amy")})
    try:
        yield found
    finally:
        stop_world(found)


def test_badges_in_pods_verify_independently(node: str, world: dict[str, Any]) -> None:
    people = world["people"]
    for who in people.values():
        record(who, ORGANISING, 3)
    join_all(world, {})
    issued = json.loads(rewards(world, "issue").stdout)
    assert len(issued["delivered"]) == 2
    ann, amy = badges_of(people["ann"])[0], badges_of(people["amy"])[0]
    rewards(world, "revoke", amy["id"])

    tampered = copy.deepcopy(ann)
    tampered["credentialSubject"]["achievement"]["name"] = "Grand organiser"
    results = independent.verify(node, [ann, amy, tampered],
                                   independent.documents([ann, amy]))
    assert results[0] == {"verified": True, "revoked": False, "error": None}, results[0]
    assert results[1]["verified"] is False and results[1]["revoked"] is True, results[1]
    assert results[2]["verified"] is False and results[2]["revoked"] is False, results[2]

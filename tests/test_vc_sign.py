"""``commonpod vc sign``: a pod's own Ed25519 key, made on first use and published in its
owner's WebID profile as a Multikey, signs credentials that ``vc verify`` then checks by
resolving that live profile."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from apps.sdk.statements.profiles import ProfileError, controller_document, lists_key
from tests.conftest import Server, cli

SEC = "https://w3id.org/security#"
UNSIGNED = Path(__file__).parent / "vectors" / "eddsa-rdfc-2022" / "unsigned.json"


def unsigned(issuer: str | None = None) -> dict[str, Any]:
    credential = json.loads(UNSIGNED.read_text(encoding="utf-8"))
    del credential["issuer"]
    if issuer is not None:
        credential["issuer"] = issuer
    return credential


def new_pod(server: Server) -> tuple[str, str]:
    name = f"vc-{uuid.uuid4().hex[:8]}"
    return name, server.create_pod(name)["webid"]


def write(tmp_path: Path, credential: dict[str, Any], name: str = "c.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(credential), encoding="utf-8")
    return path


def profile_keys(server: Server, webid: str) -> list[tuple[str, str]]:
    """(verification method, publicKeyMultibase) of every key the live profile lists as the
    WebID's assertion method."""
    url = webid.split("#")[0]
    got = httpx.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    assert got.status_code == 200
    store = ox.Store()
    store.load(got.content, format=ox.RdfFormat.TURTLE, base_iri=url)
    rows = store.query(f"""PREFIX sec: <{SEC}>
        SELECT ?vm ?mb WHERE {{ <{webid}> sec:assertionMethod ?vm.
            ?vm a sec:Multikey; sec:controller <{webid}>; sec:publicKeyMultibase ?mb }}""")
    return [(r["vm"].value, r["mb"].value) for r in rows]


def sign(server: Server, path: Path, *args: str, check: bool = True) -> Any:
    return cli("vc", "sign", str(path), *args, data_dir=server.data_dir, check=check)


def verify(server: Server, path: Path) -> Any:
    return cli("vc", "verify", str(path), data_dir=server.data_dir, check=False)


def test_sign_publishes_the_key_and_verifies_against_the_live_profile(
        server: Server, tmp_path: Path) -> None:
    pod, webid = new_pod(server)
    assert profile_keys(server, webid) == []
    done = sign(server, write(tmp_path, unsigned()), "--pod", pod)
    signed = json.loads(done.stdout)
    assert signed["issuer"] == webid  # set when absent
    vm = signed["proof"]["verificationMethod"]
    assert vm == webid.split("#")[0] + "#vc-key-1"
    [(listed, multibase)] = profile_keys(server, webid)
    assert listed == vm and multibase.startswith("z6Mk")

    path = write(tmp_path, signed, "signed.json")
    checked = verify(server, path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["verified"] and verdict["issuer"] == webid
    assert verdict["verificationMethod"] == vm and verdict["warnings"] == []


def test_tampering_fails_with_a_reason(server: Server, tmp_path: Path) -> None:
    pod, webid = new_pod(server)
    out = tmp_path / "signed.json"
    sign(server, write(tmp_path, unsigned(webid)), "--pod", pod, "--output", str(out))
    signed = json.loads(out.read_text(encoding="utf-8"))
    signed["credentialSubject"]["alumniOf"] = "Another School"
    done = verify(server, write(tmp_path, signed, "tampered.json"))
    assert done.returncode == 1
    verdict = json.loads(done.stdout)
    assert not verdict["verified"]
    assert any("signature does not match" in r for r in verdict["reasons"])


def test_signing_again_reuses_the_key(server: Server, tmp_path: Path) -> None:
    pod, webid = new_pod(server)
    first = json.loads(sign(server, write(tmp_path, unsigned()), "--pod", pod).stdout)
    keys = profile_keys(server, webid)
    # the issuer names the pod when --pod is left out
    second = json.loads(sign(server, write(tmp_path, unsigned(webid))).stdout)
    assert profile_keys(server, webid) == keys and len(keys) == 1
    assert first["proof"]["verificationMethod"] == second["proof"]["verificationMethod"]
    assert verify(server, write(tmp_path, second, "second.json")).returncode == 0


def test_pods_have_keys_of_their_own(server: Server, tmp_path: Path) -> None:
    (a, webid_a), (b, webid_b) = new_pod(server), new_pod(server)
    sign(server, write(tmp_path, unsigned()), "--pod", a)
    sign(server, write(tmp_path, unsigned()), "--pod", b)
    assert profile_keys(server, webid_a)[0][1] != profile_keys(server, webid_b)[0][1]


def test_refusals(server: Server, tmp_path: Path) -> None:
    pod, webid = new_pod(server)
    other = sign(server, write(tmp_path, unsigned("https://vc.example/issuers/5678")),
                 "--pod", pod, check=False)
    assert other.returncode == 1 and "not the pod owner" in other.stderr
    assert other.stdout == ""
    missing = sign(server, write(tmp_path, unsigned()), "--pod", "no-such-pod", check=False)
    assert missing.returncode == 1 and "no pod named" in missing.stderr
    no_pod = sign(server, write(tmp_path, unsigned()), check=False)
    assert no_pod.returncode == 1 and "--pod" in no_pod.stderr
    signed = json.loads(sign(server, write(tmp_path, unsigned()), "--pod", pod).stdout)
    again = sign(server, write(tmp_path, signed), "--pod", pod, check=False)
    assert again.returncode == 1 and "already has a proof" in again.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2", encoding="utf-8")
    assert "not JSON" in sign(server, bad, "--pod", pod, check=False).stderr
    assert profile_keys(server, webid) and len(profile_keys(server, webid)) == 1


def test_verify_refuses_private_addresses_without_the_setting(
        server: Server, tmp_path: Path) -> None:
    pod, _ = new_pod(server)
    signed = json.loads(sign(server, write(tmp_path, unsigned()), "--pod", pod).stdout)
    done = cli("vc", "verify", str(write(tmp_path, signed)), "--data-dir",
               str(tmp_path / "none"), check=False)
    assert done.returncode == 1
    assert "could not be fetched" in json.loads(done.stdout)["reasons"][0]


# --- the profile reader -----------------------------------------------------------------

PROFILE = b"""@prefix sec: <https://w3id.org/security#>.
<#me> sec:assertionMethod <#k1>, <#k2>; sec:authentication <#k1>.
<#k1> a sec:Multikey; sec:controller <#me>; sec:publicKeyMultibase "z6MkA".
<#k2> sec:controller <#me>; sec:publicKeyMultibase "z6MkB".
"""


def test_controller_document_from_turtle() -> None:
    doc = controller_document(PROFILE, "https://pod.example/a/profile/card")
    me, k1 = "https://pod.example/a/profile/card#me", "https://pod.example/a/profile/card#k1"
    assert doc["id"] == "https://pod.example/a/profile/card"
    assert doc["verificationMethod"] == [{"id": k1, "type": "Multikey", "controller": me,
                                          "publicKeyMultibase": "z6MkA"}]  # k2 is no Multikey
    [node] = doc["@graph"]
    assert node == {"id": me, "assertionMethod": [k1, k1.replace("k1", "k2")],
                    "authentication": [k1]}
    assert lists_key(PROFILE, doc["id"], me, k1, "z6MkA")
    assert not lists_key(PROFILE, doc["id"], me, k1, "z6MkB")


def test_controller_document_refuses_bad_turtle() -> None:
    with pytest.raises(ProfileError, match="not valid Turtle"):
        controller_document(b"<a> <b", "https://pod.example/card")

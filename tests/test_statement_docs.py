"""docs/statements.md: every signed example verifies against the documented test key (as
``commonpod vc verify --key`` does), is what the builders make, and breaks when altered."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from apps.sdk.statements import decode_private_key, public_key, public_key_multibase, verify
from tests.conftest import cli

DOC = Path(__file__).parents[1] / "docs" / "statements.md"
#: inside the validity period of every example
WHEN = datetime(2025, 6, 1, tzinfo=UTC)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def signed_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", doc_text(), re.S)
    return [json.loads(b) for b in blocks if '"proof"' in b]


def documented_key() -> str:
    """The test key's public Multikey, after checking it belongs to the documented secret."""
    secret = re.search(r"`secretKeyMultibase`\): `(z\w+)`", doc_text())
    public = re.search(r"`publicKeyMultibase`\): `(z6Mk\w+)`", doc_text())
    assert secret and public
    assert public_key_multibase(public_key(decode_private_key(secret.group(1)))) == \
        public.group(1)
    assert f'sec:publicKeyMultibase "{public.group(1)}"' in doc_text()  # the profile snippet
    return public.group(1)


def test_the_doc_has_a_signed_reward_and_reputation_statement() -> None:
    types = [e["type"] for e in signed_examples()]
    assert ["VerifiableCredential", "OpenBadgeCredential",
            "https://commonpod.org/ns#RewardStatement"] in types
    assert ["VerifiableCredential", "ReputationStatement"] in types


@pytest.mark.parametrize("index", range(len(signed_examples())))
def test_each_signed_example_verifies_with_the_documented_key(index: int) -> None:
    example = signed_examples()[index]
    verdict = asyncio.run(verify(example, public_key_multibase=documented_key(), now=WHEN))
    assert verdict.verified, verdict.reasons
    tampered = json.loads(json.dumps(example).replace("Riverside", "Riverbank"))
    verdict = asyncio.run(verify(tampered, public_key_multibase=documented_key(), now=WHEN))
    assert not verdict.verified
    assert any("signature does not match" in r for r in verdict.reasons), verdict.reasons


def test_the_examples_are_what_the_builders_make() -> None:
    from tests.test_builders import reputation, reward

    by_id = {e["id"]: {k: v for k, v in e.items() if k != "proof"} for e in signed_examples()}
    for built in (reward(), reputation()):
        assert by_id[built["id"]] == built


def test_the_cli_verifies_the_reward_example(tmp_path: Path) -> None:
    reward = next(e for e in signed_examples() if "OpenBadgeCredential" in e["type"])
    path = tmp_path / "reward.json"
    path.write_text(json.dumps(reward), encoding="utf-8")
    done = cli("vc", "verify", str(path), "--key", documented_key())
    assert json.loads(done.stdout)["verified"] is True


def test_the_cli_reports_the_reputation_example_expired(tmp_path: Path) -> None:
    """As the doc says: the signature checks, the validity period has ended."""
    reputation = next(e for e in signed_examples() if "ReputationStatement" in e["type"])
    path = tmp_path / "reputation.json"
    path.write_text(json.dumps(reputation), encoding="utf-8")
    done = cli("vc", "verify", str(path), "--key", documented_key(), check=False)
    out = json.loads(done.stdout)
    assert done.returncode == 1
    assert out["reasons"] == ["the credential expired at 2025-10-01T00:00:00Z"]


def test_the_python_example_runs() -> None:
    [code] = re.findall(r"```python\n(.*?)```", doc_text(), re.S)
    exec(compile(code, str(DOC), "exec"), {})  # noqa: S102 — our own documentation

"""docs/api.md stays true: its examples are accepted by the code, and the paths it names exist.

- every ```json block is valid JSON, and each one declaring ``access_needs`` passes the same
  validation as client metadata (:func:`auth.oidc.clients.app_extensions`);
- every ```turtle block parses;
- every ``/.api/…``, ``/.account/…`` and ``/.oidc/…`` path it mentions is served by a live
  server (anything but 404: most answer 400, 401, 303 or 405 to a bare request).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from auth.oidc.clients import app_extensions
from tests.conftest import Server

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
TEXT = DOC.read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PATH = re.compile(r"(?<![\w.])/?\.(api|account|oidc)/[\w/.-]*+(?!…)")  # not "/.api/…"


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(TEXT) if lang == language]


def paths() -> list[str]:
    found = {"/" + m.group(0).lstrip("/").rstrip(".") for m in PATH.finditer(TEXT)}
    return sorted(found)


def test_the_doc_has_examples() -> None:
    assert len(blocks("json")) >= 5 and len(blocks("turtle")) >= 2
    assert len(client_metadata()) >= 2
    assert {"/.api/collect", "/.api/log", "/.api/grants", "/.oidc/reg"} <= set(paths())


@pytest.mark.parametrize("body", blocks("json"))
def test_json_examples_are_valid_json(body: str) -> None:
    json.loads(body)


def client_metadata() -> list[dict[str, object]]:
    """The JSON examples that are client metadata: those with an ``access_needs`` member."""
    found = []
    for body in blocks("json"):
        try:
            doc = json.loads(body)
        except ValueError:
            continue  # reported by test_json_examples_are_valid_json
        if isinstance(doc, dict) and "access_needs" in doc:
            found.append(doc)
    return found


@pytest.mark.parametrize("doc", client_metadata(), ids=lambda d: str(d.get("client_id", "reg")))
def test_access_needs_examples_are_accepted(doc: dict) -> None:
    needs, webid, hook = app_extensions(doc, doc.get("client_id"))
    assert len(needs) == len(doc["access_needs"])
    assert webid == doc.get("agent_webid") and hook == doc.get("grant_webhook")


@pytest.mark.parametrize("body", blocks("turtle"))
def test_turtle_examples_parse(body: str) -> None:
    assert list(ox.parse(body.encode(), ox.RdfFormat.TURTLE,
                         base_iri="https://pods.example/amara/grants/example"))


def test_every_path_mentioned_is_served(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=10, follow_redirects=False) as http:
        missing = [p for p in paths() if http.get(p).status_code == 404]
    assert not missing, f"docs/api.md names paths the server does not serve: {missing}"

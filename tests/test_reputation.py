"""The community's rules, the reputation app and the rewards app (issue #13 §1-§4): the worked
example of docs/reputation.md recomputed; then, end to end (§4), three Commonpod servers with
twelve members across them, the reputation app and the shared view as their own processes:
members sign in to both through the real consent flow (the shared view's holds the rewards
app's need; one member refuses it), a rules change (Mentoring's points and the Mentor badge's
threshold) is proposed, shown with its diff, approved by members up to the quorum and takes
effect with every version kept; scores are computed, every "why" page adds up to its score,
nobody sees another's page unless they agreed; each member gets a signed statement that
verifies (SDK, ``commonpod vc verify``, Digital Bazaar's verifier) and names the rules version,
and a second run supersedes it; a member who withdraws counts for nothing and receives nothing:
no statement, no badge. ``commonpod-app rewards issue`` (a process) gives the badges due under
the new rules version, which they name; a second run gives nothing new; a revoked badge is
seen revoked by ``commonpod vc verify``. tests/test_rewards.py keeps what this does not cover:
runs interrupted by a server down or a pod full, and the rewards app's page."""

from __future__ import annotations

import asyncio
import copy
import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.reputation.method import Endorsement, Inputs, Thanks, Work, compute
from apps.rules.document import diff, parse_rules, rules_from, rules_graph, turtle
from apps.rules.model import POINTS, default_rules
from apps.sdk import HttpResolver, PodClient
from apps.sdk.statements import did_key, did_key_vm, public_key, sign, verify
from apps.sdk.statements.builders import reputation_statement
from tests import independent
from tests.conftest import ROOT, Server, cli, new_server
from tests.reputation import (
    ReputationApp,
    appreciate,
    community_file,
    contribution,
    endorse,
    provision,
    statements_of,
)
from tests.rewards_world import badges_of, rewards
from tests.shared_view import App, join, revoke
from tests.test_accounts import csrf_of

CP = "https://commonpod.org/ns#"
DOC = ROOT / "docs" / "reputation.md"


# --- the method, on the worked example ----------------------------------------------------------

def _doc_tables() -> list[list[list[str]]]:
    tables, current = [], []
    for line in DOC.read_text().splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_the_worked_example_is_what_the_code_computes() -> None:
    rules = default_rules("https://riverside.example/rules/v1.ttl")
    inputs = Inputs(members={"ana", "ben", "cleo"}, works=[
        Work("x1", "ana", (CP + "Code",)), Work("x2", "ben", (CP + "Mentoring",), Decimal(2)),
        Work("x3", "cleo", (CP + "Documentation",))],
        thanks=[Thanks("t1", "ben", "x1"), Thanks("t2", "cleo", "x1"),
                Thanks("self", "ana", "x1"), Thanks("x9-again", "ben", "x1")],  # never count
        endorsements=[Endorsement("e1", "ana", "cleo"), Endorsement("own", "ben", "ben"),
                      Endorsement("gone", "ben", "someone who withdrew")])
    results = {"points": compute(replace(rules, method=POINTS), inputs, "community"),
               "pagerank": compute(rules, inputs, "community")}
    tables = [t for t in _doc_tables() if t[0][:2] == ["member", "input"] or
              t[0] == ["member", "points", "pagerank"]]
    assert len(tables) == 3
    for method, table in zip(("points", "pagerank"), tables[:2], strict=True):
        shown = {(m, i): (w, s) for m, i, w, s in table[1:]}
        computed = {(m, item.iri): (str(item.weight), f"{item.share:.4f}")
                    for m, score in results[method].scores.items() for item in score.items}
        assert computed == shown, method
    for member, by_points, by_pagerank in tables[2][1:]:
        assert f"{results['points'].scores[member].score:.4f}" == by_points
        assert f"{results['pagerank'].scores[member].score:.4f}" == by_pagerank
    for result in results.values():
        assert sum(s.score for s in result.scores.values()) == pytest.approx(1, abs=1e-12)
        for score in result.scores.values():
            assert score.score == pytest.approx(sum(i.share for i in score.items), abs=1e-12)


def test_rules_documents_round_trip_and_diff() -> None:
    rules = default_rules("https://riverside.example/rules/v1.ttl")
    assert rules_from(rules_graph(rules), rules.iri) == rules
    text = turtle(rules).replace("cp:quorum 2", "cp:quorum 3")
    proposed = parse_rules(text, "https://riverside.example/rules/proposal-a.ttl#rules", 2)
    assert proposed.quorum == 3 and proposed.version == 2
    assert diff(rules, proposed) == ["-quorum: 2", "+quorum: 3"]
    with pytest.raises(ValueError, match="damping"):
        parse_rules(turtle(rules).replace("cp:damping 0.85", "cp:damping 1.5"), rules.iri, 2)
    with pytest.raises(ValueError, match="not Turtle"):
        parse_rules("<a> <b>", rules.iri, 2)


def test_a_statement_names_the_one_it_supersedes_and_both_verify() -> None:
    seed = bytes(range(32))
    issuer = did_key(public_key(seed))
    common: dict[str, Any] = {
        "issuer": issuer, "subject": "https://pods.example/ana/profile/card#me", "worst": 0,
        "best": 1, "count": 1, "explanation": "Half of it.",
        "method": "https://riverside.example/rules/v1.ttl", "method_name": "Rules v1",
        "derived_from": ["https://pods.example/ana/contributions/x1#it"],
        "generated_at": _now(), "valid_from": _now()}
    first = sign(reputation_statement(score=Decimal("0.5"), **common), private_key=seed,
                 verification_method=did_key_vm(public_key(seed)))
    second = sign(reputation_statement(score=Decimal("0.4"), revision_of=first["id"], **common),
                  private_key=seed, verification_method=did_key_vm(public_key(seed)))
    assert second["wasRevisionOf"] == first["id"] and "wasRevisionOf" not in first
    for statement in (first, second):
        assert asyncio.run(verify(statement)).verified


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0)


# --- end to end ---------------------------------------------------------------------------------

NAMES = {"a": ("ana", "al", "ava", "abe"), "b": ("bea", "bo", "bix", "ben"),
         "c": ("cy", "cleo", "cal", "cam")}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    servers, people = {}, {}
    for key, names in NAMES.items():
        srv = new_server(tmp_path_factory.mktemp(f"rep-{key}"))
        made = provision(srv.data_dir, (["riverside"] if key == "a" else []) + list(names))
        servers[key] = srv
        people.update(made)
    community = people.pop("riverside")
    for srv in servers.values():
        srv.start()
    tmp = tmp_path_factory.mktemp("rep-app")
    app = ReputationApp(tmp, community, ("--name", "Riverside commons"))
    # the shared view, where members also join: its consent holds the rewards app's need
    view = App(tmp, community, ("--name", "Riverside commons"))
    try:
        _record(people)
        app.start()
        view.start()
        # the rewards app's commands run as the community, with the reputation app's key file
        yield {"servers": servers, "people": people, "community": community, "app": app,
               "view": view, "tmp": tmp, "key_file": tmp / "statement.key"}
    finally:
        view.stop()
        app.stop()
        for srv in servers.values():
            srv.stop()


def _record(people: dict[str, dict[str, str]]) -> None:
    """Every member contributes; some thank others; two endorse; cam (who will withdraw)
    mentors too, as the mentors al, bea, ben and cal do."""
    works = {}
    for i, (name, who) in enumerate(people.items()):
        kind = (CP + "Code", CP + "Mentoring", CP + "Documentation")[i % 3]
        works[name] = contribution(who, "c1", kind, hours=2 if name == "bea" else None)
    contribution(people["cam"], "c2", CP + "Mentoring")
    appreciate(people["bo"], "t1", works["ana"])
    appreciate(people["cy"], "t1", works["ana"])
    appreciate(people["cam"], "t1", works["bea"])  # cam will withdraw: this stops counting
    appreciate(people["ana"], "t1", works["ana"])  # one's own work: never counts
    endorse(people["ava"], people["cleo"]["webid"], bytes(range(32)))
    endorse(people["cam"], people["al"]["webid"], bytes(range(1, 33)))


def _server_of(world: dict[str, Any], who: dict[str, str]) -> Server:
    return next(s for s in world["servers"].values() if who["pod"].startswith(s.base))


def _why(page: httpx.Response) -> tuple[float, list[dict[str, str]]]:
    score = re.search(r'id="score" data-score="([^"]+)"', page.text)
    assert score, page.text
    items = [dict(zip(("iri", "what", "weight", "share"), map(html.unescape, m), strict=True))
             for m in re.findall(r'data-iri="([^"]+)" data-what="([^"]+)" '
                                 r'data-weight="([^"]+)" data-share="([^"]+)"', page.text)]
    return float(score.group(1)), items


def _post(browser: httpx.Client, page_url: str, action: str, **data: str) -> httpx.Response:
    token = csrf_of(browser.get(page_url))
    return browser.post(action, data={"csrf": token, **data})


def _verify(statement: dict[str, Any]) -> bool:
    async def run() -> bool:
        async with PodClient() as anyone:
            return bool(await verify(statement, resolve=HttpResolver(anyone)))

    return asyncio.run(run())


def test_governance_reputation_badges_and_statements(world: dict[str, Any], tmp_path: Path
                                                    ) -> None:
    app: ReputationApp = world["app"]
    people: dict[str, dict[str, str]] = world["people"]
    community = world["community"]

    # everyone signs in on their own server and consents, to the reputation app and to the
    # shared view (whose consent holds the rewards need: ben refuses it); nobody is named but ana
    browsers: dict[str, httpx.Client] = {}
    for name, who in people.items():
        unnamed = () if name == "ana" else ("named",)
        browser, page = join(world["view"], _server_of(world, who), name, who["webid"],
                             untick=unnamed + (("rewards",) if name == "ben" else ()))
        assert page.status_code == 200 and "You are a member" in page.text, page.text
        # the same browser, signed in on its server already; each app keeps its own member
        # cookie (cookies do not tell ports apart)
        _, page = join(app, _server_of(world, who), name, who["webid"], untick=unnamed,
                       browser=browser)
        assert page.status_code == 200 and "You are a member" in page.text, page.text
        browsers[name] = browser
    # signed in to both apps in one browser: the shared view still knows ana
    assert "yes, as ana" in browsers["ana"].get(world["view"].base + "you").text
    members_ttl = community_file(community, "reputation-app/members.ttl")
    assert all(p["webid"] in members_ttl for p in people.values())

    # --- governance: ana proposes Mentoring 3 → 5 points, and the Mentor badge for one
    # mentoring contribution (not ten) in twelve months; the diff is shown to every member
    rules_page = browsers["ana"].get(app.base + "rules")
    assert "version 1" in rules_page.text
    text = html.unescape(re.search(r'<textarea name="rules">(.*?)</textarea>', rules_page.text,
                                   re.S).group(1))  # type: ignore[union-attr]
    mentoring = re.search(r'(_:\w+) cp:points "3"\^\^xsd:decimal ;\s+vf:resourceClassifiedAs '
                          r'cp:Mentoring', text)
    assert mentoring, text
    changed = text.replace(mentoring.group(0), mentoring.group(0).replace('"3"', '"5"'))
    mentor = re.search(r'#badge-mentor> a obv3:Achievement ;\s+cp:threshold 10 ;', changed)
    assert mentor, changed
    changed = changed.replace(mentor.group(0), mentor.group(0).replace(" 10 ;", " 1 ;"))
    made = _post(browsers["ana"], app.base + "rules", app.base + "rules/propose",
                 rules=changed, reason="Mentoring is what keeps us going.")
    assert made.status_code == 303, made.text
    nothing = _post(browsers["ana"], app.base + "rules", app.base + "rules/propose", rules=text)
    assert nothing.status_code == 400 and "changes nothing" in nothing.text
    broken = _post(browsers["ana"], app.base + "rules", app.base + "rules/propose",
                   rules="this is not turtle")
    assert broken.status_code == 400 and "not Turtle" in broken.text
    anonymous = httpx.Client(timeout=30)
    shown = anonymous.get(app.base + "rules").text
    proposal_id = re.search(r'id="proposal-(\w+)" data-state="open"', shown).group(1)  # type: ignore[union-attr]
    assert "-points per contribution, Mentoring: 3" in shown
    assert "+points per contribution, Mentoring: 5" in shown
    assert "-badge mentor: Mentor, 10 × Mentoring within 365 days" in shown
    assert "+badge mentor: Mentor, 1 × Mentoring within 365 days" in shown
    approve = f"{app.base}rules/proposals/{proposal_id}/approve"
    refused = _post(anonymous, app.base + "join", approve)  # not signed in: no approval
    assert refused.status_code == 403
    assert _post(browsers["bo"], app.base + "rules", approve).status_code == 303
    assert _post(browsers["bo"], app.base + "rules", approve).status_code == 303  # counts once
    page = anonymous.get(app.base + "rules").text
    assert "Approvals (1 of 2)" in page and "version 1" in page
    assert _post(browsers["cleo"], app.base + "rules", approve).status_code == 303
    page = anonymous.get(app.base + "rules").text
    assert f'id="proposal-{proposal_id}" data-state="adopted"' in page
    assert "In force: <a href=\"/rules/v/2\">version 2</a>" in page
    assert "points per contribution, Mentoring: 5" in anonymous.get(app.base + "rules/v/2").text
    assert "points per contribution, Mentoring: 3" in anonymous.get(app.base + "rules/v/1").text
    late = _post(browsers["al"], app.base + "rules", approve)
    assert late.status_code == 409
    unknown = _post(browsers["al"], app.base + "rules", app.base + "rules/proposals/f00/approve")
    assert unknown.status_code == 404
    assert anonymous.get(app.base + "rules/v/9").status_code == 404
    record = community_file(community, f"rules/proposal-{proposal_id}.ttl")
    for approver in ("bo", "cleo"):
        assert people[approver]["webid"] in record
    assert record.count("generatedAtTime") == 3  # the proposal and each approval
    assert "wasRevisionOf" in community_file(community, "rules/v2.ttl")

    # --- reputation: one run (members only); cam then withdraws
    assert _post(anonymous, app.base + "join", app.base + "run").status_code == 403
    ran = _post(browsers["ana"], app.base, app.base + "run")
    assert ran.status_code == 303
    totals = 0.0
    for name, browser in browsers.items():
        score, items = _why(browser.get(app.base + "why"))
        assert score == pytest.approx(sum(float(i["share"]) for i in items), abs=1e-9), name
        assert 'href="' + community["pod"] + 'rules/v2.ttl"' in browser.get(app.base + "why").text
        totals += score
    assert totals == pytest.approx(1, abs=1e-9)
    _, bea_items = _why(browsers["bea"].get(app.base + "why"))
    assert any(i["what"] == "appreciation" and people["cam"]["pod"] in i["iri"]
               for i in bea_items)  # cam's thanks count for now
    _, ana_items = _why(browsers["ana"].get(app.base + "why"))
    assert not any(people["ana"]["pod"] + "appreciations/" in i["iri"] for i in ana_items)

    # nobody sees another's page unless they agreed
    cleo_page = f"{app.base}why?member={people['cleo']['webid'].replace('#', '%23')}"
    assert browsers["bo"].get(cleo_page).status_code == 403
    assert anonymous.get(cleo_page).status_code == 403
    assert people["cleo"]["webid"] not in anonymous.get(app.base).text
    assert _post(browsers["cleo"], app.base + "why", app.base + "why/show",
                 show="yes").status_code == 303
    seen = browsers["bo"].get(cleo_page)
    assert seen.status_code == 200 and "endorsement" in seen.text
    assert people["cleo"]["webid"] in anonymous.get(app.base).text

    # every member received a statement that verifies and names rules v2
    first = {}
    for name, who in people.items():
        found = statements_of(who)
        assert len(found) == 1, name
        statement = found[0]
        rating = statement["credentialSubject"]["reputation"]
        assert statement["issuer"] == community["webid"]
        assert rating["wasGeneratedBy"]["qualifiedAssociation"]["hadPlan"]["id"] == \
            community["pod"] + "rules/v2.ttl"
        assert _verify(statement), name
        first[name] = statement
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(first["bix"]))
    checked = cli("vc", "verify", str(path), data_dir=world["servers"]["b"].data_dir)
    assert json.loads(checked.stdout)["verified"] is True
    # and by an independent implementation (Digital Bazaar's), offline; a changed score fails
    tampered = copy.deepcopy(first["bix"])
    tampered["credentialSubject"]["reputation"]["ratingValue"] = "0.99"
    known = independent.documents([first["ana"]])
    verdicts = independent.verify(independent.node(), [first["ana"], first["bix"], tampered],
                                  known)
    assert [v["verified"] for v in verdicts] == [True, True, False], verdicts

    # cam withdraws: counts for nothing and receives nothing; the others' new statements
    # supersede their first ones, which still verify
    assert revoke(people["cam"], _server_of(world, people["cam"]))
    assert _post(browsers["ana"], app.base, app.base + "run").status_code == 303
    _, bea_items = _why(browsers["bea"].get(app.base + "why"))
    assert not any(people["cam"]["pod"] in i["iri"] for i in bea_items)
    _, al_items = _why(browsers["al"].get(app.base + "why"))
    assert not any(i["what"] == "endorsement" for i in al_items)
    assert len(statements_of(people["cam"])) == 1  # nothing new for cam
    assert people["cam"]["webid"] not in community_file(community, "reputation-app/members.ttl")
    total = 0.0
    for name in ("ana", "bea", "cleo"):
        older, newer = statements_of(people[name])
        assert newer["wasRevisionOf"] == first[name]["id"] == older["id"]
        assert _verify(older) and _verify(newer)
    for name, browser in browsers.items():
        if name != "cam":
            total += _why(browser.get(app.base + "why"))[0]
    assert total == pytest.approx(1, abs=1e-9)

    # --- badges (`commonpod-app rewards`, as processes) under rules v2, whose Mentor badge
    # one mentoring contribution earns: the mentors al, bea and cal receive it; ben refused
    # badges, cam withdrew (both mentored), the others did not mentor
    issued = json.loads(rewards(world, "issue").stdout)
    assert issued["rules_version"] == 2 and issued["pending"] == [], issued
    assert "does not consent" in issued["skipped"][people["ben"]["webid"]]
    # issued again: nothing new
    again = json.loads(rewards(world, "issue").stdout)
    assert again["delivered"] == [] and again["pending"] == [], again
    mentors = ("al", "bea", "cal")
    badges = {name: badges_of(people[name]) for name in (*mentors, "ben", "cam")}
    assert {n: len(found) for n, found in badges.items()} == \
        {"al": 1, "bea": 1, "cal": 1, "ben": 0, "cam": 0}  # one each, none twice
    assert sorted(issued["delivered"]) == sorted(badges[n][0]["id"] for n in mentors)
    for name in mentors:
        (badge,) = badges[name]
        assert "OpenBadgeCredential" in badge["type"]
        assert badge["issuer"]["id"] == community["webid"]
        assert badge["credentialSubject"]["id"] == people[name]["webid"]
        achievement = badge["credentialSubject"]["achievement"]
        assert achievement["name"] == "Mentor"
        assert achievement["criteria"]["id"] == community["pod"] + "rules/v2.ttl"
        evidence = [e["id"] for e in badge["evidence"]]
        assert evidence == [people[name]["pod"] + "contributions/c1#it"]  # the mentoring
    # al's badge is revoked: `commonpod vc verify` says so; bea's still verifies
    done = json.loads(rewards(world, "revoke", badges["al"][0]["id"]).stdout)
    assert done["member"] == people["al"]["webid"]
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(badges["al"][0]))
    checked = cli("vc", "verify", str(path), data_dir=world["servers"]["c"].data_dir,
                  check=False)
    verdict = json.loads(checked.stdout)
    assert checked.returncode == 1 and verdict["revoked"] is True, checked.stdout
    assert verdict["verified"] is False
    assert _verify(badges["bea"][0])
    for browser in (*browsers.values(), anonymous):
        browser.close()


def test_the_app_starts_with_one_command_and_says_what_is_wrong(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "apps.cli", "reputation", "--community",
                           "https://pods.example/c/profile/card#me", "--credentials",
                           str(tmp_path / "none"), "--key-file", str(tmp_path / "key"),
                           "--public-url", "http://127.0.0.1:1/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "credential file" in done.stderr
    helped = subprocess.run([sys.executable, "-m", "apps.cli", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert "reputation" in helped.stderr

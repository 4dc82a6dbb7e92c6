"""Permission tables: which modes WAC grants whom, through the real store and decision code.

Logins arrive with Solid-OIDC (issue #3); until then authenticated agents are exercised here,
at the access-decision layer, with the same sealed store and ACL resources the server uses.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pod.access.agent import ANONYMOUS, Agent
from pod.access.modes import Mode
from pod.errors import Forbidden, Unauthenticated
from pod.resources.conditions import Conditions
from pod.resources.paths import Target
from pod.resources.provision import create_pod
from pod.runtime import open_runtime
from pod.settings import Settings

BASE = "http://pod.test/"
OWNER = BASE + "alice/profile/card#me"
BOB = "https://bob.example/profile#me"
CAROL = "https://carol.example/profile#me"
R, A, W, C = Mode.READ, Mode.APPEND, Mode.WRITE, Mode.CONTROL

SHARED_ACL = f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#bob> a acl:Authorization; acl:agent <{BOB}>; acl:accessTo <./>; acl:default <./>;
  acl:mode acl:Read, acl:Write.
<#users> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent; acl:accessTo <./>;
  acl:mode acl:Append.
<#public-children> a acl:Authorization; acl:agentClass foaf:Agent; acl:default <./>;
  acl:mode acl:Read.
<#not-typed> acl:agent <{CAROL}>; acl:accessTo <./>; acl:mode acl:Control.
"""
DOC_ACL = f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#carol> a acl:Authorization; acl:agent <{CAROL}>; acl:accessTo <doc.ttl>; acl:mode acl:Append.
"""

TABLE = [
    # path, agent, modes expected
    ("/", ANONYMOUS, set()),
    ("/", Agent(BOB), set()),
    ("/", Agent(OWNER), {R, A, W, C}),
    ("/private/x.ttl", Agent(OWNER), {R, A, W, C}),
    ("/private/x.ttl", Agent(BOB), set()),
    ("/profile/card", ANONYMOUS, {R}),
    ("/profile/card", Agent(BOB), {R}),
    ("/shared/", Agent(BOB), {R, W, A}),          # accessTo; Write implies Append
    ("/shared/", Agent(CAROL), {A}),               # acl:AuthenticatedAgent
    ("/shared/", ANONYMOUS, set()),                # acl:default does not cover the container
    ("/shared/sub/deep.ttl", ANONYMOUS, {R}),      # inherited through a missing container
    ("/shared/sub/deep.ttl", Agent(BOB), {R, W, A}),
    ("/shared/sub/deep.ttl", Agent(CAROL), {R}),   # accessTo rules are not inherited
    ("/shared/doc.ttl", Agent(CAROL), {A}),        # its own ACL replaces the inherited one
    ("/shared/doc.ttl", Agent(BOB), set()),
    ("/shared/doc.ttl", ANONYMOUS, set()),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("wac")
    settings = Settings(data_dir=Path(data), base_url=BASE).validated()
    from pod.store import keys

    keys.write_key_file(settings.master_key_path, keys.new_master_key())
    loop = asyncio.new_event_loop()

    async def setup():
        rt = await open_runtime(settings, create=True)
        await create_pod(rt.pods, rt.resources, "alice")
        k = await rt.pods.find("alice")
        for path, body in [("/shared/.acl", SHARED_ACL), ("/shared/doc.ttl", "<#a> <#b> <#c>."),
                           ("/shared/doc.ttl.acl", DOC_ACL)]:
            if path == "/shared/.acl":
                await rt.resources.put(k, Target("alice", "/shared/"), b"", None, Conditions())
            await rt.resources.put(k, Target("alice", path), body.encode(), "text/turtle",
                                   Conditions())
        return rt, k

    rt, k = loop.run_until_complete(setup())
    yield loop, rt, k
    loop.run_until_complete(rt.close())
    loop.close()


@pytest.mark.parametrize("path, agent, expected", TABLE)
def test_granted_modes(world, path: str, agent: Agent, expected: set[Mode]) -> None:
    loop, rt, k = world

    async def modes():
        async with rt.resources.store.read(k) as reader:
            [found] = await rt.access.modes(reader, k, Target("alice", path), (agent,))
            return found

    assert loop.run_until_complete(modes()) == expected


@pytest.mark.parametrize("agent, error", [(ANONYMOUS, Unauthenticated), (Agent(BOB), Forbidden)])
def test_denial_is_401_for_nobody_and_403_for_an_agent(world, agent: Agent, error) -> None:
    loop, rt, k = world

    async def check():
        async with rt.resources.store.read(k) as reader:
            await rt.access.check(reader, k, Target("alice", "/"), agent, [("/", R)])

    with pytest.raises(error):
        loop.run_until_complete(check())


def test_acl_resources_need_control_on_their_subject(world) -> None:
    from pod.access.modes import required

    t = Target("alice", "/shared/doc.ttl.acl")
    assert required("GET", t, True) == [("/shared/doc.ttl", C)]
    assert required("PUT", t, True) == [("/shared/doc.ttl", C)]
    assert required("DELETE", Target("alice", "/shared/doc.ttl"), True) == [
        ("/shared/doc.ttl", W), ("/shared/", W)]
    assert required("PUT", Target("alice", "/shared/new.ttl"), False) == [
        ("/shared/new.ttl", W), ("/shared/", A)]


@pytest.mark.parametrize("path, agent, expected", [
    ("/inbox/", ANONYMOUS, set()),
    ("/inbox/", Agent(BOB), {A}),
    ("/inbox/note.ttl", Agent(BOB), {A}),
    ("/settings/publicTypeIndex.ttl", ANONYMOUS, {R}),
    ("/settings/privateTypeIndex.ttl", ANONYMOUS, set()),
    ("/settings/prefs.ttl", Agent(BOB), set()),
    ("/settings/prefs.ttl", Agent(OWNER), {R, A, W, C}),
])
def test_provisioned_defaults(world, path: str, agent: Agent, expected: set[Mode]) -> None:
    test_granted_modes(world, path, agent, expected)


GROUP = "https://groups.example/friends#g"
APP = "https://app.example"
GROUP_ACL = f"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#friends> a acl:Authorization; acl:agentGroup <{GROUP}>; acl:accessTo <./>; acl:mode acl:Read.
<#app> a acl:Authorization; acl:agent <{CAROL}>; acl:origin <{APP}>; acl:accessTo <./>;
  acl:mode acl:Write.
<#app-friends> a acl:Authorization; acl:agentGroup <{GROUP}>; acl:origin <{APP}>;
  acl:accessTo <./>; acl:mode acl:Append.
"""


@pytest.mark.parametrize("agent, expected", [
    (ANONYMOUS, set()),
    (Agent(origin=APP), set()),                      # groups and origins need a WebID too
    (Agent(BOB), {R}),                               # a member of the group
    (Agent(BOB, origin=APP), {R, A}),
    (Agent(BOB, origin="https://evil.example"), {R}),
    (Agent(CAROL), set()),                           # not a member; origin missing
    (Agent(CAROL, origin=APP), {W, A}),
    (Agent(CAROL, origin="https://evil.example"), set()),
])
def test_agent_groups_and_origins(world, agent: Agent, expected: set[Mode]) -> None:
    loop, rt, k = world
    asked: list[tuple[str, str]] = []

    async def is_member(group: str, webid: str, owner: str) -> bool:
        assert owner == rt.access.owner("alice")  # asked for the ACL's pod owner
        asked.append((group, webid))
        return group == GROUP and webid == BOB

    async def modes():
        await rt.resources.put(k, Target("alice", "/groups/"), b"", None, Conditions())
        await rt.resources.put(k, Target("alice", "/groups/.acl"), GROUP_ACL.encode(),
                               "text/turtle", Conditions())
        rt.access.is_member = is_member
        try:
            async with rt.resources.store.read(k) as reader:
                [found] = await rt.access.modes(reader, k, Target("alice", "/groups/"), (agent,))
                return found
        finally:
            rt.access.is_member = None

    assert loop.run_until_complete(modes()) == expected
    assert all(webid == agent.webid for _, webid in asked)
    if agent.webid is None:
        assert not asked  # nobody to look up


GRANT_TO_CAROL = f"""@prefix cp: <https://commonpod.org/ns#> .
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix dpv: <https://w3id.org/dpv#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a cp:AccessGrant, odrl:Agreement ; odrl:uid <#it> ; odrl:assigner <{OWNER}> ;
  odrl:assignee <{CAROL}> ; dpv:hasLegalBasis dpv:Consent ; dpv:hasConsentStatus dpv:ConsentGiven ;
  dcterms:issued "2026-01-01T00:00:00Z"^^xsd:dateTime ;
  odrl:permission [ odrl:target <{BASE}alice/private/> ; odrl:action odrl:read ;
    odrl:constraint [ odrl:leftOperand odrl:purpose ; odrl:operator odrl:eq ;
                      odrl:rightOperand dpv:ServiceProvision ],
                    [ odrl:leftOperand odrl:dateTime ; odrl:operator odrl:lt ;
                      odrl:rightOperand "2099-01-01T00:00:00Z"^^xsd:dateTime ] ] .
"""


def test_a_decision_is_a_value_naming_the_grants_it_consulted(world) -> None:
    """The decision returns what it found — modes, WAC-Allow, the grants that gave modes and
    the need it refused — and raises only when required, so the access log can name the grant
    of a refused request too."""
    loop, rt, k = world
    doc, grant = Target("alice", "/private/x.ttl"), Target("alice", "/grants/carol")

    async def decide():
        await rt.resources.put(k, grant, GRANT_TO_CAROL.encode(), "text/turtle", Conditions())
        try:
            async with rt.resources.store.read(k) as reader:
                return (await rt.access.decide_read(reader, k, doc, Agent(CAROL)),
                        await rt.access.decide_read(reader, k, doc, Agent(BOB)),
                        await rt.access.decide(reader, k, doc, Agent(CAROL),
                                               [("/private/x.ttl", W)]))
        finally:
            await rt.resources.delete(k, grant, Conditions())

    read, refused, write = loop.run_until_complete(decide())
    iri = BASE + "alice/grants/carol#it"
    assert read.allowed and read.modes == {R} and read.grants == (iri,) and read.grant == iri
    assert read.wac_allow == 'user="read",public=""'
    read.require()  # allowed: nothing to raise
    assert not refused.allowed and refused.grants == () and refused.modes == set()
    with pytest.raises(Forbidden):
        refused.require()
    assert write.refused == (W, BASE + "alice/private/x.ttl") and write.grants == (iri,)
    with pytest.raises(Forbidden):
        write.require()



TRIPLE_TERM = "<<( <#a> <#b> <#c> )>>"  # an RDF 1.2 triple term: no part of a grant may be one


def test_triple_terms_in_a_grant_count_for_nothing(world) -> None:
    """A grants document its owner wrote with triple terms (RDF 1.2) where IRIs or literals
    belong is still read: such an action grants nothing, such a status withdraws the grant,
    and the access decisions go on. (The owner of ``dora`` first empties the private type
    index, so the grants are not checked against their shape.)"""
    loop, rt, _ = world
    doc = Target("dora", "/private/x.ttl")
    carol = GRANT_TO_CAROL.replace("alice/", "dora/").replace(
        "odrl:action odrl:read", f"odrl:action odrl:read, {TRIPLE_TERM}").replace(
        "<#it> a cp:AccessGrant,", f"<#it> dcterms:title {TRIPLE_TERM} ;\n"
        f"  <#note> {TRIPLE_TERM} ; a cp:AccessGrant,")
    bob = GRANT_TO_CAROL.replace("alice/", "dora/").replace(CAROL, BOB).replace(
        "dpv:ConsentGiven ;", f"dpv:ConsentGiven, {TRIPLE_TERM} ;")
    writes = [("/settings/privateTypeIndex.ttl",
               "<> a <http://www.w3.org/ns/solid/terms#TypeIndex> ."),
              ("/grants/carol", carol), ("/grants/bob", bob)]

    async def decide():
        await create_pod(rt.pods, rt.resources, "dora")
        k = await rt.pods.find("dora")
        for path, body in writes:
            await rt.resources.put(k, Target("dora", path), body.encode(), "text/turtle",
                                   Conditions())
        async with rt.resources.store.read(k) as reader:
            return (await rt.access.decide_read(reader, k, doc, Agent(CAROL)),
                    await rt.access.decide_read(reader, k, doc, Agent(BOB)))

    for_carol, for_bob = loop.run_until_complete(decide())
    assert for_carol.allowed and for_carol.modes == {R}
    assert for_carol.grants == (BASE + "dora/grants/carol#it",)
    assert not for_bob.allowed and for_bob.modes == set() and for_bob.grants == ()

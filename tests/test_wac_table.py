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

    async def is_member(group: str, webid: str) -> bool:
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

"""What the pod side's HTTP edges use — the LDP endpoint and ``/.api/collect`` — built once in
``create_app`` and handed to them (the LDP endpoint at construction, collect as a dependency).
It sits below the edge so the edge reaches the store, the log and the resource service only
through it (see the import-linter contracts in ``pyproject.toml``)."""

from __future__ import annotations

from dataclasses import dataclass

from pod.access.audit import AccessLog
from pod.access.decide import AccessDecider
from pod.access.reading import ReadService
from pod.resources.patch import PatchParser
from pod.resources.service import ResourceService
from pod.settings import Settings
from pod.store.directory import PodDirectory


@dataclass(frozen=True, slots=True)
class PodServices:
    """The pod services a request for pod resources goes through, in the order it meets them."""

    settings: Settings
    pods: PodDirectory  # pod name → keys
    access: AccessDecider
    reads: ReadService  # GET, the bulk read and write checks: one reading of a pod
    resources: ResourceService
    patches: PatchParser  # PATCH bodies, parsed within limits
    log: AccessLog  # the owners' access logs

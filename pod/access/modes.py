"""Which access modes an operation needs, on which resources (WAC §5 "Access modes").

The answer is a list of (resource path, mode) pairs, all of which must be granted. Operations on
an ``.acl`` resource need Control on the resource it governs; ``.meta`` resources follow the
resource they describe.
"""

from __future__ import annotations

from enum import StrEnum

from pod.resources.paths import ACL_SUFFIX, Target


class Mode(StrEnum):
    READ = "read"
    APPEND = "append"
    WRITE = "write"
    CONTROL = "control"


Need = tuple[str, Mode]


def _on_subject(target: Target, mode: Mode) -> list[Need]:
    if target.aux == ACL_SUFFIX:
        return [(target.subject.path, Mode.CONTROL)]
    return [(target.subject.path, mode)]


def required(method: str, target: Target, exists: bool, *, patch_reads: bool = False,
             patch_deletes: bool = True, receiver: str | None = None) -> list[Need]:
    """The modes ``method`` on ``target`` needs; ``exists`` says whether ``target`` exists.

    Creating a resource needs Append on the container that receives a new member: its parent,
    or — when intermediate containers are created too — ``receiver``, the nearest container
    that exists (Solid Protocol §5.3, WAC §5)."""
    if method in ("GET", "HEAD"):
        return _on_subject(target, Mode.READ)
    if method == "POST":
        return [(target.path, Mode.APPEND)]
    if method == "DELETE":
        needs = _on_subject(target, Mode.WRITE)
        if not target.aux and target.parent is not None:
            needs.append((target.parent, Mode.WRITE))
        return needs
    if method in ("PUT", "PATCH"):
        write = Mode.WRITE if method == "PUT" or patch_deletes else Mode.APPEND
        needs = _on_subject(target, write)
        if method == "PATCH" and patch_reads:
            needs += _on_subject(target, Mode.READ)
        if not exists and not target.aux and target.parent is not None:
            needs.append((receiver or target.parent, Mode.APPEND))
        return needs
    return []

"""JSON from strangers: request bodies and fetched documents, parsed strictly (RFC 8259).

``json.loads`` accepts ``NaN``/``Infinity`` (not JSON), turns ``1e999`` into an infinite
float that cannot be written back, and raises :class:`RecursionError` on deeply nested arrays.
:func:`loads` refuses all three with a :class:`JSONError` (a ``ValueError``) and bounds the
nesting of what it returns, so no later step (authlib, ``json.dumps``, templates) recurses
deeply over a stranger's data.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: nesting deeper than this is refused (client metadata and API bodies need a handful)
MAX_DEPTH = 32


class JSONError(ValueError):
    """Input that is not strict JSON, or is nested too deeply; the message says which."""


def _constant(name: str) -> Any:
    raise JSONError(f"{name} is not a JSON number (RFC 8259 §6)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONError(f"the number {text[:20]} is out of range")
    return value


def _depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests, counted without recursion and stopping past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                break
            stack.extend((child, level + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of strict JSON text ``data``; raises :class:`JSONError`."""
    try:
        value = json.loads(data, parse_constant=_constant, parse_float=_finite)
    except JSONError:
        raise
    except RecursionError:
        raise JSONError(f"the JSON is nested more than {max_depth} levels deep") from None
    except ValueError:  # also UnicodeDecodeError, and integers too long to convert
        raise JSONError("the text is not valid JSON") from None
    if _depth(value, max_depth) > max_depth:
        raise JSONError(f"the JSON is nested more than {max_depth} levels deep")
    return value

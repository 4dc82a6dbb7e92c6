"""docs/ARCHITECTURE.md stays true: its route table names every route the running app serves,
with the file whose function answers it, and nothing else."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from tests.routes import served

DOC = Path(__file__).resolve().parent.parent / "docs" / "ARCHITECTURE.md"
ROW = re.compile(r"^\| `(?P<path>[^`]+)` \| (?P<methods>[A-Z ]+) \| (?P<by>.+) \|$")


def documented() -> dict[str, tuple[set[str], str]]:
    section = DOC.read_text().split("## Routes: from a URL to the file that answers it", 1)[1]
    table = section.split("\n## ", 1)[0]
    out = {}
    for line in table.splitlines():
        m = ROW.match(line.strip())
        if m:
            out[m["path"]] = (set(m["methods"].split()), m["by"].strip("`"))
    return out


def test_the_route_table_names_every_route_and_the_file_that_answers_it() -> None:
    actual: dict[str, set[str]] = defaultdict(set)
    module: dict[str, str] = {}
    for route in served():
        actual[route.path].add(route.method)
        module[route.path] = route.module
    table = documented()
    assert set(table) == set(actual), "routes missing from or extra in docs/ARCHITECTURE.md"
    for path, (methods, by) in table.items():
        assert methods == actual[path], f"{path}: methods {methods} vs {actual[path]}"
        if module[path].startswith("fastapi."):
            assert by.startswith("FastAPI"), path
            continue
        expected = module[path].replace(".", "/") + ".py"
        assert by == expected, f"{path} is answered by {expected}, the table says {by}"
        assert (DOC.parent.parent / expected).is_file()

"""docs/owners.md and its pictures stay together: every picture it shows exists and is a PNG,
and every picture the desktop journey takes (tests/test_browser_journey.py) is shown in it."""

from __future__ import annotations

import re

from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "owners.md"


def test_the_owners_guide_shows_every_picture_the_journey_takes() -> None:
    shown = re.findall(r"!\[[^\]]+\]\(owners/([a-z0-9-]+)\.png\)", GUIDE.read_text())
    taken = re.findall(r'\.shot\("([a-z0-9-]+)"\)',
                       (ROOT / "tests" / "test_browser_journey.py").read_text())
    assert shown and len(shown) == len(set(shown))
    assert set(shown) == set(taken)
    for name in shown:
        picture = GUIDE.parent / "owners" / f"{name}.png"
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture

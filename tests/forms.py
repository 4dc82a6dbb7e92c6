"""What a browser would submit from a page's form: hidden inputs, ticked boxes, the selected
(or first) option of each select — parsed with the standard library's HTML parser."""

from __future__ import annotations

from html.parser import HTMLParser


class _Form(HTMLParser):
    def __init__(self, action: str | None) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}
        self.select: str | None = None
        self.chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = self.action is None or a.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and "name" in a and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("hidden", "text", "password", "email") or \
                    (kind in ("checkbox", "radio") and "checked" in a):
                self.fields[a["name"]] = a.get("value", "on")
        elif tag == "select" and "name" in a:
            self.select, self.chosen = a["name"], False
        elif tag == "option" and self.select and ("selected" in a or not self.chosen):
            self.fields[self.select] = a.get("value", "")
            self.chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_fields(html: str, action: str | None = None) -> dict[str, str]:
    """The fields a browser submits by default from the form posting to ``action``."""
    parser = _Form(action)
    parser.feed(html)
    return parser.fields

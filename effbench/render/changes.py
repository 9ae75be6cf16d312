"""The changes page and its Atom feed: a board's recorded updates (`effbench.history`), newest first.

Each update is told as lines a reader can follow: new models with their rank interval, models whose rank
or rank interval moved (before and after), models and scenarios that left, scenarios added. The feed
carries the same lines, one entry per update, so a subscriber learns of a new model without visiting.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from effbench.history import Update
from effbench.render.values import Link

CHANGES_PAGE = "changes.html"
CHANGES_FEED = "changes.xml"


@dataclass(frozen=True)
class ChangeLine:
    """One line of an update: the text around a link to the model or scenario page (`link` may be None)."""

    before: str
    link: Link | None
    after: str

    @property
    def text(self) -> str:
        return self.before + (self.link.text if self.link else "") + self.after


@dataclass(frozen=True)
class UpdateView:
    anchor: str  # the update's id on the changes page
    date: str  # "2026-12-05 09:30 UTC"
    iso: str  # the same time for the feed and <time datetime>
    summary: str  # "1 new model, 2 moved"
    lines: tuple[ChangeLine, ...]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def update_views(updates: Sequence[Update], model_link: Callable[[str], Link | None],
                 scenario_link: Callable[[str], Link | None]) -> tuple[UpdateView, ...]:
    """Return the updates as the page shows them; `model_link` and `scenario_link` give the link to a name's
    page on the current site, or None for one that is no longer there (its id is then plain text)."""
    def line(before: str, name: str, link: Callable[[str], Link | None], after: str) -> ChangeLine:
        target = link(name)
        return ChangeLine(before, target, after) if target else ChangeLine(before + name, None, after)

    views = []
    for update in updates:
        c = update.changes
        lines = [line("New: ", e.model, model_link, f", rank {e.place.rank_text}") for e in c.new_models]
        lines += [line("", m.model, model_link, f": rank {m.before.rank_text} → {m.after.rank_text}") for m in c.moved]
        lines += [line("No longer ranked: ", e.model, model_link, f" (was rank {e.place.rank_text})")
                  for e in c.removed_models]
        lines += [line("New scenario: ", s, scenario_link, "") for _, s in c.new_scenarios]
        lines += [ChangeLine(f"Scenario no longer on the board: {s}", None, "") for _, s in c.removed_scenarios]
        parts = [_count(len(c.new_models), "new model") if c.new_models else "",
                 f"{len(c.moved)} moved" if c.moved else "",
                 f"{len(c.removed_models)} no longer ranked" if c.removed_models else "",
                 _count(len(c.new_scenarios), "new scenario") if c.new_scenarios else "",
                 _count(len(c.removed_scenarios), "scenario removed", "scenarios removed") if c.removed_scenarios
                 else ""]
        at = update.at
        views.append(UpdateView(f"update-{at.strftime('%Y%m%dT%H%M%S')}", at.strftime("%Y-%m-%d %H:%M UTC"),
                                at.strftime("%Y-%m-%dT%H:%M:%SZ"), ", ".join(p for p in parts if p), tuple(lines)))
    return tuple(views)


def _urn(text: str) -> str:
    """Return a stable URN for `text`: a UUID-shaped hash, since a site need not know its own address."""
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"urn:uuid:{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:32]}"


def atom_feed(views: Sequence[UpdateView], *, title: str, board: str, page_href: str) -> str:
    """Return the Atom feed (RFC 4287) of the updates. Links are relative to the feed (it sits beside the
    changes page); ids are URNs derived from the title, the board and the update's time, stable across builds."""
    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}feed")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ns}}}{tag}", attributes)
        element.text = text
        return element

    add(root, "title", f"{title}: changes")
    add(root, "id", _urn(f"{title}\0{board}"))
    add(root, "updated", views[0].iso if views else "1970-01-01T00:00:00Z")
    add(root, "link", rel="alternate", href=page_href)
    add(root, "link", rel="self", href=CHANGES_FEED)
    add(add(root, "author"), "name", title)
    for view in views:
        entry = add(root, "entry")
        add(entry, "title", f"{view.date}: {view.summary}")
        add(entry, "id", _urn(f"{title}\0{board}\0{view.iso}"))
        add(entry, "updated", view.iso)
        add(entry, "link", rel="alternate", href=f"{page_href}#{view.anchor}")
        add(entry, "summary", "; ".join(line.text for line in view.lines) or view.summary)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

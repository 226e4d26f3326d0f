"""Sections of the deal page, and the registry other parts add theirs to (the quotes part
adds "Quotes"). A ``loader(request, deal)`` returns the section's template context — shown to
the template as ``data`` — or None to hide the section (no empty placeholders). Loaders run
a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    loader: Callable[[Any, Any], dict | None]
    template: str
    order: int = 100


_sections: dict[str, Section] = {}


def register(section: Section) -> Section:
    _sections[section.key] = section
    return section


def for_deal(request, deal) -> list[dict]:
    out = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        data = section.loader(request, deal)
        if data is not None:
            out.append({"section": section, "data": data})
    return out

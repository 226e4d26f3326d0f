"""The side navigation. Each app registers its entries; the shell shows those the user may use."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    section: str | Promise
    label: str | Promise
    url_name: str
    order: int = 100
    allowed: Callable | None = None  # (user) -> bool

    @property
    def url(self) -> str:
        return _reverse(self.url_name)


@functools.lru_cache(maxsize=512)
def _reverse(url_name: str) -> str:
    # Every page draws the whole side navigation; its URLs take no arguments and never
    # change while the process runs.
    return reverse(url_name)


_items: list[NavItem] = []


def register(item: NavItem) -> None:
    _items.append(item)
    _items.sort(key=lambda i: i.order)


def for_user(user) -> list[tuple[str, list[NavItem]]]:
    sections: dict[str, list[NavItem]] = {}
    for item in _items:
        if item.allowed is None or item.allowed(user):
            sections.setdefault(str(item.section), []).append(item)
    return list(sections.items())

"""The registry of business objects: what roles grant rights on, what custom fields attach
to, what field restrictions name, what the audit log and global search know about.

Each domain app registers its objects in its ``AppConfig.ready``; the platform never
imports a domain app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import Promise


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str | Promise
    # Fields that may be restricted per role (hidden/read-only). Identity fields are not.
    restrictable: bool = True


@dataclass(frozen=True)
class BusinessObject:
    key: str
    model: type[models.Model]
    label: str | Promise
    label_plural: str | Promise
    fields: tuple[FieldSpec, ...] = ()
    supports_custom_fields: bool = False
    # Roles may grant rights on it; otherwise only administrators manage it.
    grantable: bool = True
    # Name of the owner foreign key when record visibility applies to this object.
    owner_field: str | None = None
    # (workspace, actor, term) -> list of (label, url) for the global search box.
    search: Callable | None = field(default=None, compare=False)
    detail_url: Callable | None = field(default=None, compare=False)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


_objects: dict[str, BusinessObject] = {}


def register(obj: BusinessObject) -> BusinessObject:
    _objects[obj.key] = obj
    return obj


def get(key: str) -> BusinessObject:
    return _objects[key]


def find(key: str) -> BusinessObject | None:
    return _objects.get(key)


def all_objects() -> list[BusinessObject]:
    return list(_objects.values())


def key_for_model(model: type[models.Model]) -> str | None:
    for obj in _objects.values():
        if obj.model is model:
            return obj.key
    return None

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def audit_value(value):
    """A before/after value of the audit log as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict) and "label" in value:
        return value["label"]
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(str(audit_value(v)) for v in value)
    return value


@register.filter
def field_label(name, object_key=""):
    """The translated label of a field named in the audit log."""
    from guanxi.platform import registry

    obj = registry.find(object_key) if object_key else None
    spec = obj.field(name) if obj else None
    return spec.label if spec else name

"""Built-in roles of existing workspaces get their rights on the activities' objects, as new
workspaces do. The grants are written out here: a data migration imports no app code."""

from django.db import migrations

ALL = ["bulk", "create", "delete", "export", "read", "update"]
WORK = ["create", "export", "read", "update"]
LOG = ["create", "read"]
SHARED = ["create", "read", "update"]
OBJECTS = (
    "activities.entry",
    "activities.commitment",
    "activities.email",
    "activities.task",
    "activities.checkin",
    "activities.visit_plan",
)


def _worker(plans):
    return {
        "activities.entry": (LOG, "own"),
        "activities.commitment": (SHARED, "all"),
        "activities.email": (LOG, "all"),
        "activities.task": (WORK, "own"),
        "activities.checkin": (LOG, "own"),
        "activities.visit_plan": (plans, "all"),
    }


GRANTS = {
    "sales_manager": {key: (ALL, "team_below") for key in OBJECTS},
    "sales_rep": _worker(["read", "update"]),
    "marketing": _worker(["read"]),
    "service_agent": _worker(["read"]),
    "technician": _worker(["read"]),
    "read_only": {
        **{key: (["read"], "all") for key in OBJECTS},
        "activities.entry": (["read"], "own"),
    },
}


def grant(apps, schema_editor):
    Role = apps.get_model("platform", "Role")
    for role in Role.objects.filter(is_system=True, code__in=GRANTS):
        rights = dict(role.rights or {})
        for key, (actions, visibility) in GRANTS[role.code].items():
            rights.setdefault(key, {"actions": sorted(actions), "visibility": visibility})
        role.rights = rights
        role.save(update_fields=["rights"])


def revoke(apps, schema_editor):
    Role = apps.get_model("platform", "Role")
    for role in Role.objects.filter(is_system=True, code__in=GRANTS):
        role.rights = {k: v for k, v in (role.rights or {}).items() if k not in OBJECTS}
        role.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial"), ("platform", "0003_audit_redaction")]

    operations = [migrations.RunPython(grant, revoke)]

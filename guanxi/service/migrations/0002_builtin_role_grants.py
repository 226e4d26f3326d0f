"""Built-in roles of existing workspaces get their rights on the service's objects, as new
workspaces do (``guanxi/platform/roles.py``), and each workspace gets the new built-in role
"Service manager". The grants are written out here: a data migration imports no app code."""

from django.db import migrations

GRANTS = {
    "marketing": {"service.article": (["read"], "all"), "service.case": (["read"], "all")},
    "read_only": {
        "service.article": (["read"], "all"),
        "service.call": (["read"], "all"),
        "service.case": (["read"], "all"),
        "service.configuration": (["read"], "all"),
        "service.dispatch": (["read"], "all"),
        "service.survey": (["read"], "all"),
    },
    "sales_manager": {
        "service.article": (["read"], "all"),
        "service.case": (["create", "export", "read"], "all"),
    },
    "sales_rep": {
        "service.article": (["read"], "all"),
        "service.case": (["create", "read"], "all"),
    },
    "service_agent": {
        "service.article": (["create", "read", "update"], "all"),
        "service.call": (["create", "read"], "own"),
        "service.case": (["create", "export", "read", "update"], "all"),
        "service.configuration": (["read"], "all"),
        "service.dispatch": (["create", "read", "update"], "all"),
        "service.survey": (["read"], "own"),
    },
    "technician": {
        "service.article": (["read"], "all"),
        "service.call": (["create", "read"], "own"),
        "service.case": (["read", "update"], "all"),
        "service.configuration": (["read"], "all"),
        "service.dispatch": (["read", "update"], "own"),
    },
}

SERVICE_MANAGER_RIGHTS = {
    "activities.checkin": (["bulk", "create", "delete", "export", "read", "update"], "team_below"),
    "activities.commitment": (
        ["bulk", "create", "delete", "export", "read", "update"],
        "team_below",
    ),
    "activities.email": (["bulk", "create", "delete", "export", "read", "update"], "team_below"),
    "activities.entry": (["bulk", "create", "delete", "export", "read", "update"], "team_below"),
    "activities.task": (["bulk", "create", "delete", "export", "read", "update"], "team_below"),
    "activities.visit_plan": (
        ["bulk", "create", "delete", "export", "read", "update"],
        "team_below",
    ),
    "analytics.customer_value": (["read"], "all"),
    "customers.account": (["bulk", "create", "export", "read", "update"], "all"),
    "customers.contact": (["bulk", "create", "export", "read", "update"], "all"),
    "platform.job": (["read"], "team_below"),
    "platform.team": (["read"], "all"),
    "platform.user": (["read"], "all"),
    "sales.configuration": (["read"], "all"),
    "sales.deal": (["read"], "all"),
    "sales.lead": (["create", "read"], "all"),
    "sales.order": (["read"], "all"),
    "sales.price_book": (["read"], "all"),
    "sales.product": (["read"], "all"),
    "sales.quote": (["read"], "all"),
    "service.article": (["bulk", "create", "delete", "export", "read", "update"], "all"),
    "service.call": (["bulk", "create", "delete", "export", "read", "update"], "team_below"),
    "service.case": (["bulk", "create", "delete", "export", "read", "update"], "all"),
    "service.configuration": (["bulk", "create", "delete", "export", "read", "update"], "all"),
    "service.dispatch": (["bulk", "create", "delete", "export", "read", "update"], "team_below"),
    "service.survey": (["export", "read"], "team_below"),
}


def grant(apps, schema_editor):
    Role = apps.get_model("platform", "Role")
    Workspace = apps.get_model("platform", "Workspace")
    for role in Role.objects.filter(is_system=True, code__in=GRANTS):
        rights = dict(role.rights or {})
        for key, (actions, visibility) in GRANTS[role.code].items():
            rights.setdefault(key, {"actions": sorted(actions), "visibility": visibility})
        role.rights = rights
        role.save(update_fields=["rights"])
    rights = {
        key: {"actions": sorted(actions), "visibility": visibility}
        for key, (actions, visibility) in SERVICE_MANAGER_RIGHTS.items()
    }
    for workspace in Workspace.objects.all():
        if Role.objects.filter(workspace=workspace, code="service_manager").exists():
            continue
        name = "Service manager"
        if Role.objects.filter(workspace=workspace, name=name).exists():
            name = "Service manager (built in)"
        Role.objects.create(
            workspace=workspace,
            code="service_manager",
            name=name,
            description="Runs the service desk and call centre: queues, SLAs, dispatch and "
            "the knowledge base.",
            is_system=True,
            rights=rights,
        )


def revoke(apps, schema_editor):
    Role = apps.get_model("platform", "Role")
    Role.objects.filter(is_system=True, code="service_manager", users__isnull=True).delete()
    for role in Role.objects.filter(is_system=True, code__in=GRANTS):
        keys = set(GRANTS[role.code])
        role.rights = {k: v for k, v in (role.rights or {}).items() if k not in keys}
        role.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0001_initial"),
        ("platform", "0003_audit_redaction"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

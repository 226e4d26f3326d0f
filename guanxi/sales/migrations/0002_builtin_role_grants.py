"""Built-in roles of existing workspaces get their rights on the sales' and the analysis'
objects, as new workspaces do (``guanxi/platform/roles.py``). The grants are written out here:
a data migration imports no app code."""

from django.db import migrations

GRANTS = {'marketing': {'analytics.customer_value': (['read'], 'all'),
               'sales.configuration': (['read'], 'all'),
               'sales.deal': (['read'], 'all'),
               'sales.lead': (['bulk', 'create', 'export', 'read', 'update'], 'all'),
               'sales.lead_form': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                   'all'),
               'sales.order': (['read'], 'all'),
               'sales.price_book': (['read'], 'all'),
               'sales.product': (['read'], 'all'),
               'sales.quote': (['read'], 'all')},
 'read_only': {'analytics.customer_value': (['read'], 'all'),
               'sales.configuration': (['read'], 'all'),
               'sales.deal': (['read'], 'all'),
               'sales.invoice': (['read'], 'all'),
               'sales.lead': (['read'], 'all'),
               'sales.lead_form': (['read'], 'all'),
               'sales.order': (['read'], 'all'),
               'sales.price_book': (['read'], 'all'),
               'sales.product': (['read'], 'all'),
               'sales.quota': (['read'], 'all'),
               'sales.quote': (['read'], 'all'),
               'sales.quote_approval': (['read'], 'all')},
 'sales_manager': {'analytics.customer_value': (['export', 'read', 'update'], 'all'),
                   'sales.configuration': (['bulk',
                                            'create',
                                            'delete',
                                            'export',
                                            'read',
                                            'update'],
                                           'all'),
                   'sales.deal': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                  'team_below'),
                   'sales.invoice': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                     'team_below'),
                   'sales.lead': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                  'team_below'),
                   'sales.lead_form': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                       'all'),
                   'sales.order': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                   'team_below'),
                   'sales.price_book': (['bulk',
                                         'create',
                                         'delete',
                                         'export',
                                         'read',
                                         'update'],
                                        'all'),
                   'sales.product': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                     'all'),
                   'sales.quota': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                   'team_below'),
                   'sales.quote': (['bulk', 'create', 'delete', 'export', 'read', 'update'],
                                   'team_below'),
                   'sales.quote_approval': (['read', 'update'], 'team_below')},
 'sales_rep': {'analytics.customer_value': (['read'], 'all'),
               'sales.configuration': (['read'], 'all'),
               'sales.deal': (['create', 'export', 'read', 'update'], 'own'),
               'sales.invoice': (['create', 'export', 'read', 'update'], 'own'),
               'sales.lead': (['create', 'export', 'read', 'update'], 'own'),
               'sales.lead_form': (['read'], 'all'),
               'sales.order': (['create', 'export', 'read', 'update'], 'own'),
               'sales.price_book': (['read'], 'all'),
               'sales.product': (['read'], 'all'),
               'sales.quota': (['read'], 'own'),
               'sales.quote': (['create', 'export', 'read', 'update'], 'own'),
               'sales.quote_approval': (['read'], 'own')},
 'service_agent': {'analytics.customer_value': (['read'], 'all'),
                   'sales.configuration': (['read'], 'all'),
                   'sales.deal': (['read'], 'all'),
                   'sales.lead': (['create', 'read'], 'own'),
                   'sales.order': (['read'], 'all'),
                   'sales.price_book': (['read'], 'all'),
                   'sales.product': (['read'], 'all'),
                   'sales.quote': (['read'], 'all')},
 'technician': {'analytics.customer_value': (['read'], 'all'),
                'sales.configuration': (['read'], 'all'),
                'sales.deal': (['read'], 'all'),
                'sales.order': (['read'], 'all'),
                'sales.price_book': (['read'], 'all'),
                'sales.product': (['read'], 'all'),
                'sales.quote': (['read'], 'all')}}


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
        keys = set(GRANTS[role.code])
        role.rights = {k: v for k, v in (role.rights or {}).items() if k not in keys}
        role.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
        ("analytics", "0001_initial"),
        ("platform", "0003_audit_redaction"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

"""The SLA policy's warning share is labelled "warn at this share of the target (%)": the
old "warn at (% of target)" read as a "% o" placeholder to the translation tools."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0009_knowledge_search_tsvector"),
    ]

    operations = [
        migrations.AlterField(
            model_name="slapolicy",
            name="warn_at_percent",
            field=models.PositiveSmallIntegerField(
                default=80, verbose_name="warn at this share of the target (%)"
            ),
        ),
    ]

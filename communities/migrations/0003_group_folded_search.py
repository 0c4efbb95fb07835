"""Folded name and description of groups for the directory search.

Stored generated columns: PostgreSQL fills them for existing rows when they are added (the
table is rewritten once) and recomputes them on every INSERT and UPDATE, so no data migration
and no save() hook is needed. They rely on ``campus_unaccent()`` (IMMUTABLE, campus 0002).
"""

import django.db.models.functions.text
from django.db import migrations, models

import campus.search


class Migration(migrations.Migration):
    dependencies = [
        ("campus", "0002_french_search"),
        ("communities", "0002_notify_new_threads"),
    ]

    operations = [
        migrations.AddField(
            model_name="group",
            name="name_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower(campus.search.Unaccent("name")),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="group",
            name="description_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower(
                    campus.search.Unaccent("description")
                ),
                output_field=models.TextField(),
            ),
        ),
    ]

from django.db import migrations


def load(apps, schema_editor):
    from mallette.corpus import corpus_load

    corpus_load(
        theme_model=apps.get_model("mallette", "Theme"),
        practice_model=apps.get_model("mallette", "Practice"),
    )


class Migration(migrations.Migration):
    dependencies = [("mallette", "0001_initial")]

    # Reversing keeps the rows: the schema migration before it drops the tables anyway.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

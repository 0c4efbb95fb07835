from django.db import migrations


def load(apps, schema_editor):
    from selfdiag.defaults import questionnaire_default_load

    questionnaire_default_load(
        questionnaire_model=apps.get_model("selfdiag", "Questionnaire"),
        competency_model=apps.get_model("selfdiag", "Competency"),
        item_model=apps.get_model("selfdiag", "Item"),
        open_question_model=apps.get_model("selfdiag", "OpenQuestion"),
        theme_model=apps.get_model("mallette", "Theme"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("selfdiag", "0001_initial"),
        ("mallette", "0002_editorial_corpus"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

"""French full-text search: accent folding and the `campus_french` configuration.

`campus_unaccent()` replaces the `unaccent` extension, which not every PostgreSQL ships (the
embedded one does not); being IMMUTABLE, it can feed stored tsvectors and indexes.
"""

from django.db import migrations

# Lower/upper case accented Latin letters used in French (and neighbours), one-to-one.
_FROM = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿ"
_TO = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyy"

FORWARD = f"""
CREATE OR REPLACE FUNCTION campus_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT replace(replace(replace(replace(
    translate($1, '{_FROM}', '{_TO}'),
    'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE')
$$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'campus_french') THEN
    CREATE TEXT SEARCH CONFIGURATION campus_french (COPY = pg_catalog.french);
  END IF;
END $$;
"""

BACKWARD = """
DROP TEXT SEARCH CONFIGURATION IF EXISTS campus_french;
DROP FUNCTION IF EXISTS campus_unaccent(text);
"""


class Migration(migrations.Migration):
    dependencies = [("campus", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

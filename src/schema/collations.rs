//! Collations and encoding conversions: how text is compared and
//! converted. A collation is created from its provider and locales as the
//! catalog of the source's major records them (read through `to_jsonb`,
//! whose keys differ between majors 13 and 18), never with a version: the
//! target records its own library's.

use super::catalogs::Catalog;

/// Collations $1, as `CREATE COLLATION` spells them. The ICU (or builtin)
/// locale is `colllocale` from 17, `colliculocale` in 15 and 16, and
/// `collcollate` before.
const COLLATIONS: &str = "
SELECT c.oid, pg_catalog.format('CREATE COLLATION %I.%I (%s);', n.nspname, c.collname,
         pg_catalog.array_to_string(ARRAY[
           'PROVIDER = ' || CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
           CASE WHEN NOT c.collisdeterministic THEN 'DETERMINISTIC = false' END,
           CASE WHEN c.collprovider IN ('i', 'b') THEN
                  'LOCALE = ' || pg_catalog.quote_literal(COALESCE(j ->> 'colllocale', j ->> 'colliculocale',
                                                                   j ->> 'collcollate'))
                WHEN j ->> 'collcollate' = j ->> 'collctype' THEN
                  'LOCALE = ' || pg_catalog.quote_literal(j ->> 'collcollate')
                ELSE 'LC_COLLATE = ' || pg_catalog.quote_literal(j ->> 'collcollate')
                     || ', LC_CTYPE = ' || pg_catalog.quote_literal(j ->> 'collctype') END,
           CASE WHEN j ->> 'collicurules' IS NOT NULL
                THEN 'RULES = ' || pg_catalog.quote_literal(j ->> 'collicurules') END], ', ')) AS sql,
       false AS superuser
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace,
LATERAL pg_catalog.to_jsonb(c) AS j
WHERE c.oid = ANY($1) ORDER BY 1";

/// Encoding conversions $1, as `CREATE CONVERSION` spells them.
const CONVERSIONS: &str = "
SELECT c.oid, pg_catalog.format('CREATE %sCONVERSION %I.%I FOR %L TO %L FROM %s;',
         CASE WHEN c.condefault THEN 'DEFAULT ' ELSE '' END, n.nspname, c.conname,
         pg_catalog.pg_encoding_to_char(c.conforencoding), pg_catalog.pg_encoding_to_char(c.contoencoding),
         c.conproc::regproc::text) AS sql,
       false AS superuser
FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
WHERE c.oid = ANY($1) ORDER BY 1";

/// The query (objects as $1) writing collations or conversions.
pub(super) fn query(catalog: Catalog) -> &'static str {
    match catalog {
        Catalog::Collation => COLLATIONS,
        _ => CONVERSIONS,
    }
}

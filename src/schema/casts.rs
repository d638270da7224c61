//! Casts and transforms: they belong to no schema, and come with the types
//! and functions they connect.

use super::catalogs::Catalog;

/// Casts $1, as `CREATE CAST` spells them. Only a superuser can declare
/// two types binary coercible (`WITHOUT FUNCTION`).
const CASTS: &str = "
SELECT c.oid, pg_catalog.format('CREATE CAST (%s AS %s) %s%s;',
         pg_catalog.format_type(c.castsource, NULL), pg_catalog.format_type(c.casttarget, NULL),
         CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure::text
                           WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END,
         CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END)
         AS sql,
       c.castmethod = 'b' AS superuser
FROM pg_catalog.pg_cast c WHERE c.oid = ANY($1) ORDER BY 1";

/// Transforms $1, as `CREATE TRANSFORM` spells them.
const TRANSFORMS: &str = "
SELECT x.oid, pg_catalog.format('CREATE TRANSFORM FOR %s LANGUAGE %I (%s);',
         pg_catalog.format_type(x.trftype, NULL), l.lanname,
         pg_catalog.array_to_string(ARRAY[
           CASE WHEN x.trffromsql <> 0
                THEN 'FROM SQL WITH FUNCTION ' || x.trffromsql::regprocedure::text END,
           CASE WHEN x.trftosql <> 0
                THEN 'TO SQL WITH FUNCTION ' || x.trftosql::regprocedure::text END], ', ')) AS sql,
       false AS superuser
FROM pg_catalog.pg_transform x JOIN pg_catalog.pg_language l ON l.oid = x.trflang
WHERE x.oid = ANY($1) ORDER BY 1";

/// The query (objects as $1) writing casts or transforms.
pub(super) fn query(catalog: Catalog) -> &'static str {
    match catalog {
        Catalog::Cast => CASTS,
        _ => TRANSFORMS,
    }
}

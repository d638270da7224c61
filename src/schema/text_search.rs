//! Text search parsers, templates, dictionaries and configurations, the
//! last with their token mappings. Only a superuser can create parsers
//! and templates.

use super::catalogs::Catalog;

/// Text search parsers $1.
const PARSERS: &str = "
SELECT p.oid, pg_catalog.format('CREATE TEXT SEARCH PARSER %I.%I (%s);', n.nspname, p.prsname,
         pg_catalog.array_to_string(ARRAY[
           'START = ' || p.prsstart::regproc::text, 'GETTOKEN = ' || p.prstoken::regproc::text,
           'END = ' || p.prsend::regproc::text, 'LEXTYPES = ' || p.prslextype::regproc::text,
           CASE WHEN p.prsheadline <> 0 THEN 'HEADLINE = ' || p.prsheadline::regproc::text END],
           ', ')) AS sql,
       true AS superuser
FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
WHERE p.oid = ANY($1) ORDER BY 1";

/// Text search templates $1.
const TEMPLATES: &str = "
SELECT t.oid, pg_catalog.format('CREATE TEXT SEARCH TEMPLATE %I.%I (%s);', n.nspname, t.tmplname,
         pg_catalog.array_to_string(ARRAY[
           CASE WHEN t.tmplinit <> 0 THEN 'INIT = ' || t.tmplinit::regproc::text END,
           'LEXIZE = ' || t.tmpllexize::regproc::text], ', ')) AS sql,
       true AS superuser
FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
WHERE t.oid = ANY($1) ORDER BY 1";

/// Text search dictionaries $1, with their options as the catalog keeps them.
const DICTIONARIES: &str = "
SELECT d.oid, pg_catalog.format('CREATE TEXT SEARCH DICTIONARY %I.%I (TEMPLATE = %I.%I%s);',
         n.nspname, d.dictname, tn.nspname, t.tmplname,
         COALESCE(', ' || d.dictinitoption, '')) AS sql,
       false AS superuser
FROM pg_catalog.pg_ts_dict d
JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE d.oid = ANY($1) ORDER BY 1";

/// Text search configurations $1: the parser, then each token type's
/// dictionaries in order.
const CONFIGURATIONS: &str = "
SELECT c.oid,
       pg_catalog.format('CREATE TEXT SEARCH CONFIGURATION %I.%I (PARSER = %I.%I);',
                         n.nspname, c.cfgname, pn.nspname, p.prsname)
       || COALESCE((SELECT pg_catalog.string_agg(
                      pg_catalog.format(E'\nALTER TEXT SEARCH CONFIGURATION %I.%I ADD MAPPING FOR %s WITH %s;',
                                        n.nspname, c.cfgname, t.alias, m.dictionaries), '' ORDER BY m.token)
                    FROM (SELECT x.maptokentype AS token,
                                 pg_catalog.string_agg(x.mapdict::regdictionary::text, ', '
                                                       ORDER BY x.mapseqno) AS dictionaries
                          FROM pg_catalog.pg_ts_config_map x WHERE x.mapcfg = c.oid
                          GROUP BY x.maptokentype) m
                    JOIN pg_catalog.ts_token_type(c.cfgparser) t ON t.tokid = m.token), '') AS sql,
       false AS superuser
FROM pg_catalog.pg_ts_config c
JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
WHERE c.oid = ANY($1) ORDER BY 1";

/// The query (objects as $1) writing text search objects of `catalog`.
pub(super) fn query(catalog: Catalog) -> &'static str {
    match catalog {
        Catalog::TextSearchParser => PARSERS,
        Catalog::TextSearchTemplate => TEMPLATES,
        Catalog::TextSearchDictionary => DICTIONARIES,
        _ => CONFIGURATIONS,
    }
}

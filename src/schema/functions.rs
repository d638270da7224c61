//! Functions, procedures and aggregates, each as the server prints its
//! definition (an aggregate's put together from the catalog).

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::catalogs::Catalog;
use super::comments::push_comment;
use super::defined::{Batch, Defined};
use crate::artifact::{ObjectKind, SchemaObject};

/// Functions $1 outside the system schemas: identity (name and input
/// types, as restore looks it up), definition, comment, and whether its
/// language is untrusted (C, internal, plpython3u: only a superuser can
/// create it). An aggregate's
/// definition is put together from pg_aggregate, every option spelled out
/// (the server has no deparser for it).
const FUNCTION_INFO: &str = "
SELECT p.oid, p.prokind::text AS kind, n.nspname,
       p.prokind <> 'a' AND NOT COALESCE((SELECT l.lanpltrusted FROM pg_catalog.pg_language l
                                          WHERE l.oid = p.prolang), false) AS untrusted,
       pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes))
         AS name,
       CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid)
       ELSE (SELECT pg_catalog.format('CREATE AGGREGATE %I.%I(%s) (%s)', n.nspname, p.proname,
                                      CASE WHEN p.pronargs = 0 THEN '*'
                                           ELSE pg_catalog.pg_get_function_arguments(p.oid) END,
                                      pg_catalog.array_to_string(ARRAY[
               'SFUNC = ' || a.aggtransfn::regproc::text,
               'STYPE = ' || pg_catalog.format_type(a.aggtranstype, NULL),
               CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END,
               CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc::text END,
               CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
               CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = '
                 || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE'
                                          ELSE 'READ_WRITE' END END,
               CASE WHEN a.agginitval IS NOT NULL
                    THEN 'INITCOND = ' || pg_catalog.quote_literal(a.agginitval) END,
               CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc::text END,
               CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc::text END,
               CASE WHEN a.aggdeserialfn <> 0
                    THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc::text END,
               CASE WHEN a.aggmtransfn <> 0 THEN 'MSFUNC = ' || a.aggmtransfn::regproc::text END,
               CASE WHEN a.aggminvtransfn <> 0
                    THEN 'MINVFUNC = ' || a.aggminvtransfn::regproc::text END,
               CASE WHEN a.aggmtranstype <> 0
                    THEN 'MSTYPE = ' || pg_catalog.format_type(a.aggmtranstype, NULL) END,
               CASE WHEN a.aggmtransspace <> 0 THEN 'MSSPACE = ' || a.aggmtransspace END,
               CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || a.aggmfinalfn::regproc::text END,
               CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
               CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC_MODIFY = '
                 || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE'
                                           ELSE 'READ_WRITE' END END,
               CASE WHEN a.aggminitval IS NOT NULL
                    THEN 'MINITCOND = ' || pg_catalog.quote_literal(a.aggminitval) END,
               CASE WHEN a.aggsortop <> 0 THEN (
                    SELECT pg_catalog.format('SORTOP = OPERATOR(%I.%s)', opn.nspname, o.oprname)
                    FROM pg_catalog.pg_operator o
                    JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace
                    WHERE o.oid = a.aggsortop) END,
               CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END,
               CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE'
                                  WHEN 'r' THEN 'PARALLEL = RESTRICTED' END], ', '))
             FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid)
       END AS definition,
       CASE WHEN pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL THEN
            pg_catalog.format('COMMENT ON %s %I.%I(%s) IS %L',
                              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                                             ELSE 'FUNCTION' END,
                              n.nspname, p.proname,
                              CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*'
                                   ELSE pg_catalog.pg_get_function_identity_arguments(p.oid) END,
                              pg_catalog.obj_description(p.oid, 'pg_proc')) END AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 4";

/// Read the functions `oids`.
pub(super) async fn read(client: &Client, oids: &[u32]) -> Result<Batch> {
    let mut batch = Batch::default();
    for row in client
        .query(FUNCTION_INFO, &[&oids])
        .await
        .context("cannot read functions")?
    {
        let definition: String = row.get("definition");
        let mut sql = format!("{};", definition.trim_end());
        push_comment(&mut sql, row.get("comment"));
        let object = SchemaObject::new(ObjectKind::Function, row.get("name"), None, sql)
            .for_superuser(row.get("untrusted"));
        let node = Catalog::Function.node(row.get("oid"));
        batch
            .defined
            .push(Defined::new(node, Some(row.get("nspname")), object));
    }
    Ok(batch)
}

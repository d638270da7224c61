//! Functions (procedures and aggregates too) that dumped tables, domains,
//! views and other functions use, each as the server prints its definition
//! (an aggregate's put together from the catalog), with the types it names.
//! Functions an extension owns stand for the extension.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use super::types::Defined;
use crate::artifact::{ObjectKind, SchemaObject};

/// Functions used by relations $1 (defaults, generated columns, checks,
/// index expressions, triggers), domains $2, view rules of $3, and functions $4.
const FUNCTION_REFS: &str = "
SELECT DISTINCT d.refobjid FROM pg_catalog.pg_depend d
WHERE d.refclassid = 'pg_catalog.pg_proc'::regclass AND (
   (d.classid = 'pg_catalog.pg_attrdef'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_attrdef WHERE adrelid = ANY($1)))
OR (d.classid = 'pg_catalog.pg_constraint'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_constraint
                    WHERE conrelid = ANY($1) OR contypid = ANY($2)))
OR (d.classid = 'pg_catalog.pg_class'::regclass
    AND d.objid IN (SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = ANY($1)))
OR (d.classid = 'pg_catalog.pg_rewrite'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_rewrite WHERE ev_class = ANY($3)))
OR (d.classid = 'pg_catalog.pg_trigger'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_trigger
                    WHERE tgrelid = ANY($1) AND NOT tgisinternal))
OR (d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = ANY($4)))";

/// Functions $1 outside the system schemas: identity (name and input types, as to_regprocedure reads
/// it), definition, extension, the types they use. An aggregate's
/// definition is put together from pg_aggregate, every option spelled out
/// (the server has no deparser for it); its state types count as used.
const FUNCTION_INFO: &str = "
SELECT p.oid, p.prokind::text AS kind, n.nspname,
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
       (SELECT e.extname::text FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         AS extension,
       p.proargtypes::oid[] || COALESCE(p.proallargtypes, '{}'::oid[]) || p.prorettype
         || COALESCE((SELECT ARRAY[a.aggtranstype, a.aggmtranstype] FROM pg_catalog.pg_aggregate a
                      WHERE a.aggfnoid = p.oid), '{}'::oid[]) AS types,
       EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[] || COALESCE(p.proallargtypes, '{}'::oid[])
                                    || p.prorettype) AS u(t)
               JOIN pg_catalog.pg_type ty ON ty.oid = u.t
               JOIN pg_catalog.pg_type el ON el.oid = CASE WHEN ty.typelem <> 0 AND ty.typlen = -1
                                                         THEN ty.typelem ELSE ty.oid END
               JOIN pg_catalog.pg_class c ON c.oid = el.typrelid
               WHERE c.relkind <> 'c') AS uses_row_type,
       CASE WHEN pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL THEN
            pg_catalog.format('COMMENT ON %s %I.%I(%s) IS %L',
                              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                                             ELSE 'FUNCTION' END,
                              n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
                              pg_catalog.obj_description(p.oid, 'pg_proc')) END AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 4";

/// What a batch of functions comes to.
#[derive(Debug, Default)]
pub(super) struct FunctionsRead {
    pub defined: Vec<Defined>,
    /// The types their arguments and results name.
    pub types: Vec<u32>,
    pub extensions: Vec<String>,
    pub warnings: Vec<String>,
}

/// The functions that relations `relation_oids`, domains `domains`, views
/// `view_oids` and functions `functions` use.
pub(super) async fn used_by(
    client: &Client,
    relation_oids: &[u32],
    domains: &[u32],
    view_oids: &[u32],
    functions: &[u32],
) -> Result<Vec<u32>> {
    let rows = client
        .query(
            FUNCTION_REFS,
            &[&relation_oids, &domains, &view_oids, &functions],
        )
        .await
        .context("cannot read the functions tables use")?;
    Ok(rows.iter().map(|r| r.get("refobjid")).collect())
}

/// Read the functions `oids`.
pub(super) async fn read(client: &Client, oids: &[u32]) -> Result<FunctionsRead> {
    let mut read = FunctionsRead::default();
    for row in client
        .query(FUNCTION_INFO, &[&oids])
        .await
        .context("cannot read functions")?
    {
        let name: String = row.get("name");
        if let Some(extension) = row.get::<_, Option<String>>("extension") {
            read.extensions.push(extension);
            continue;
        }
        let definition: String = row.get("definition");
        read.types.extend(
            row.get::<_, Vec<u32>>("types")
                .into_iter()
                .filter(|&t| t != 0),
        );
        let mut sql = format!("{};", definition.trim_end());
        push_comment(&mut sql, row.get("comment"));
        read.defined.push(Defined {
            oid: row.get("oid"),
            schema: row.get("nspname"),
            object: SchemaObject::new(ObjectKind::Function, name, None, sql),
            uses: Vec::new(),
            late: row.get("uses_row_type"),
        });
    }
    Ok(read)
}

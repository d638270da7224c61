//! Operators, operator families and operator classes, as `CREATE OPERATOR`,
//! `CREATE OPERATOR FAMILY` (with its loose members) and `CREATE OPERATOR
//! CLASS` spell them. A class is always created into its family, which is
//! created first: a class named like its family would have made it anyway.
//! Only a superuser can create classes and families.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::catalogs::Catalog;
use super::defined::Ddl;

/// Operators $1. A commutator or negator not created yet becomes a shell
/// operator that its own `CREATE OPERATOR` fills in later; shell operators
/// themselves (no function) are left out, as pg_dump leaves them: the
/// operators naming them make them again.
const OPERATORS: &str = "
SELECT o.oid, pg_catalog.format('CREATE OPERATOR %I.%s (%s);', n.nspname, o.oprname,
         pg_catalog.array_to_string(ARRAY[
           'FUNCTION = ' || o.oprcode::regproc::text,
           CASE WHEN o.oprleft <> 0 THEN 'LEFTARG = ' || pg_catalog.format_type(o.oprleft, NULL) END,
           CASE WHEN o.oprright <> 0 THEN 'RIGHTARG = ' || pg_catalog.format_type(o.oprright, NULL) END,
           (SELECT pg_catalog.format('COMMUTATOR = OPERATOR(%I.%s)', cn.nspname, c.oprname)
            FROM pg_catalog.pg_operator c JOIN pg_catalog.pg_namespace cn ON cn.oid = c.oprnamespace
            WHERE c.oid = o.oprcom),
           (SELECT pg_catalog.format('NEGATOR = OPERATOR(%I.%s)', cn.nspname, c.oprname)
            FROM pg_catalog.pg_operator c JOIN pg_catalog.pg_namespace cn ON cn.oid = c.oprnamespace
            WHERE c.oid = o.oprnegate),
           CASE WHEN o.oprrest <> 0 THEN 'RESTRICT = ' || o.oprrest::regproc::text END,
           CASE WHEN o.oprjoin <> 0 THEN 'JOIN = ' || o.oprjoin::regproc::text END,
           CASE WHEN o.oprcanmerge THEN 'MERGES' END,
           CASE WHEN o.oprcanhash THEN 'HASHES' END], ', ')) AS sql,
       false AS superuser
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oid = ANY($1) AND o.oprcode <> 0 ORDER BY 1";

/// The operators and functions of operator classes or families $1 that
/// `pg_depend` ties to them with deptype $2 (`i` for a class's own
/// members, `a` for a family's loose ones), as the `AS` / `ADD` list
/// spells each.
const MEMBERS: &str = "
SELECT owner, pg_catalog.array_agg(member ORDER BY kind, number, member) AS members FROM (
    SELECT d.refobjid AS owner, 1 AS kind, ao.amopstrategy::int AS number,
           pg_catalog.format('OPERATOR %s %s', ao.amopstrategy, ao.amopopr::regoperator::text)
             || CASE WHEN ao.amoppurpose = 'o' THEN
                     (SELECT pg_catalog.format(' FOR ORDER BY %I.%I', fn.nspname, f.opfname)
                      FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
                      WHERE f.oid = ao.amopsortfamily) ELSE '' END AS member
    FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_amop ao ON ao.oid = d.objid
    WHERE d.classid = 'pg_catalog.pg_amop'::regclass AND d.refobjid = ANY($1) AND d.deptype = $2::\"char\"
      AND d.refclassid IN ('pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass)
    UNION ALL
    SELECT d.refobjid, 2, ap.amprocnum::int,
           pg_catalog.format('FUNCTION %s (%s, %s) %s', ap.amprocnum,
                             pg_catalog.format_type(ap.amproclefttype, NULL),
                             pg_catalog.format_type(ap.amprocrighttype, NULL), ap.amproc::regprocedure::text)
    FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_amproc ap ON ap.oid = d.objid
    WHERE d.classid = 'pg_catalog.pg_amproc'::regclass AND d.refobjid = ANY($1) AND d.deptype = $2::\"char\"
      AND d.refclassid IN ('pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass)
) m GROUP BY owner";

/// Operator families $1, created empty: their members come after.
const FAMILIES: &str = "
SELECT f.oid, pg_catalog.format('%I.%I USING %I', n.nspname, f.opfname, am.amname) AS name
FROM pg_catalog.pg_opfamily f
JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
WHERE f.oid = ANY($1) ORDER BY 1";

/// Operator classes $1, up to the list of their members.
const CLASSES: &str = "
SELECT c.oid, c.opcfamily,
       pg_catalog.format('CREATE OPERATOR CLASS %I.%I %sFOR TYPE %s USING %I FAMILY %I.%I AS ',
                         n.nspname, c.opcname, CASE WHEN c.opcdefault THEN 'DEFAULT ' ELSE '' END,
                         pg_catalog.format_type(c.opcintype, NULL), am.amname, fn.nspname, f.opfname)
         AS head,
       CASE WHEN c.opckeytype <> 0 THEN 'STORAGE ' || pg_catalog.format_type(c.opckeytype, NULL) END
         AS storage,
       pg_catalog.format_type(c.opcintype, NULL) AS input
FROM pg_catalog.pg_opclass c
JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
WHERE c.oid = ANY($1) ORDER BY 1";

/// The DDL of operators, operator classes or families `oids`.
pub(super) async fn read(client: &Client, catalog: Catalog, oids: &[u32]) -> Result<Vec<Ddl>> {
    match catalog {
        Catalog::Operator => Ddl::read(client, OPERATORS, oids, "operators").await,
        Catalog::OperatorFamily => families(client, oids).await,
        _ => classes(client, oids).await,
    }
}

async fn members(
    client: &Client,
    oids: &[u32],
    deptype: u8,
) -> Result<std::collections::HashMap<u32, Vec<String>>> {
    // PostgreSQL's "char" is a signed byte.
    let deptype = deptype as i8;
    Ok(client
        .query(MEMBERS, &[&oids, &deptype])
        .await
        .context("cannot read the members of operator classes and families")?
        .iter()
        .map(|row| (row.get("owner"), row.get("members")))
        .collect())
}

async fn families(client: &Client, oids: &[u32]) -> Result<Vec<Ddl>> {
    let mut loose = members(client, oids, b'a').await?;
    let rows = client
        .query(FAMILIES, &[&oids])
        .await
        .context("cannot read operator families")?;
    Ok(rows
        .iter()
        .map(|row| {
            let oid: u32 = row.get("oid");
            let name: String = row.get("name");
            let mut sql = format!("CREATE OPERATOR FAMILY {name};");
            if let Some(members) = loose.remove(&oid) {
                sql.push_str(&format!(
                    "\nALTER OPERATOR FAMILY {name} ADD {};",
                    members.join(", ")
                ));
            }
            Ddl {
                oid,
                sql,
                uses: Vec::new(),
                superuser: true,
            }
        })
        .collect())
}

async fn classes(client: &Client, oids: &[u32]) -> Result<Vec<Ddl>> {
    let mut own = members(client, oids, b'i').await?;
    let rows = client
        .query(CLASSES, &[&oids])
        .await
        .context("cannot read operator classes")?;
    Ok(rows
        .iter()
        .map(|row| {
            let oid: u32 = row.get("oid");
            let mut list: Vec<String> = row
                .get::<_, Option<String>>("storage")
                .into_iter()
                .collect();
            list.extend(own.remove(&oid).unwrap_or_default());
            if list.is_empty() {
                // The list cannot be empty; naming the input type changes nothing.
                list.push(format!("STORAGE {}", row.get::<_, String>("input")));
            }
            Ddl {
                oid,
                sql: format!("{}{};", row.get::<_, String>("head"), list.join(", ")),
                uses: vec![Catalog::OperatorFamily.node(row.get("opcfamily"))],
                superuser: true,
            }
        })
        .collect())
}

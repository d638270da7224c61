//! Objects other than relations: which of them whole schemas hold, and
//! the reader for each catalog (types, functions, operators, casts,
//! collations, text search, access methods), named and commented alike.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::{Client, Row};

use super::catalogs::{Catalog, Node};
use super::comments::push_comment;
use super::defined::{Batch, Ddl, Defined};
use super::{
    access_methods, casts, collations, event_triggers, functions, operators, text_search, types,
};
use crate::artifact::{ObjectKind, SchemaObject};

/// Objects $2 of catalog $1 as the server identifies them (the name a
/// restore looks them up by), their schema, and their comment as a
/// statement. A transform's identity reads `for T on language L`, its
/// comment's `FOR T LANGUAGE L`.
const IDENTITIES: &str = "
SELECT u.oid, i.identity, i.schema,
       (SELECT pg_catalog.format('COMMENT ON %s %s IS %L', pg_catalog.upper(i.type),
                                 CASE WHEN i.type = 'transform'
                                      THEN pg_catalog.replace(i.identity, ' on language ', ' LANGUAGE ')
                                      ELSE i.identity END, d.description)
        FROM pg_catalog.pg_description d
        WHERE d.classoid = $1 AND d.objoid = u.oid AND d.objsubid = 0) AS comment
FROM unnest($2::oid[]) AS u(oid),
LATERAL pg_catalog.pg_identify_object($1, u.oid, 0) AS i
ORDER BY 1";

/// The user objects of schemas $1 in every catalog a dump carries, but
/// those an extension owns and those internal to another object (array
/// types, a table's row type, a range's constructors). Casts, transforms
/// and event triggers belong to no schema: those over a type or through a
/// function of these schemas count.
const SCHEMA_CONTENTS: &str = "
WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY($1)),
contents(classid, oid) AS (
    SELECT 'pg_catalog.pg_type'::regclass, oid FROM pg_catalog.pg_type WHERE typnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_proc'::regclass, oid FROM pg_catalog.pg_proc WHERE pronamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_operator'::regclass, oid FROM pg_catalog.pg_operator
    WHERE oprnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_opclass'::regclass, oid FROM pg_catalog.pg_opclass
    WHERE opcnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_opfamily'::regclass, oid FROM pg_catalog.pg_opfamily
    WHERE opfnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_collation'::regclass, oid FROM pg_catalog.pg_collation
    WHERE collnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_conversion'::regclass, oid FROM pg_catalog.pg_conversion
    WHERE connamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_ts_parser'::regclass, oid FROM pg_catalog.pg_ts_parser
    WHERE prsnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_ts_template'::regclass, oid FROM pg_catalog.pg_ts_template
    WHERE tmplnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_ts_dict'::regclass, oid FROM pg_catalog.pg_ts_dict
    WHERE dictnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_ts_config'::regclass, oid FROM pg_catalog.pg_ts_config
    WHERE cfgnamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_cast'::regclass, c.oid FROM pg_catalog.pg_cast c
    WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                  WHERE t.oid IN (c.castsource, c.casttarget) AND t.typnamespace IN (SELECT oid FROM ns))
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                  WHERE p.oid = c.castfunc AND p.pronamespace IN (SELECT oid FROM ns))
    UNION ALL
    SELECT 'pg_catalog.pg_event_trigger'::regclass, e.oid FROM pg_catalog.pg_event_trigger e
    JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid WHERE p.pronamespace IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'pg_catalog.pg_transform'::regclass, x.oid FROM pg_catalog.pg_transform x
    JOIN pg_catalog.pg_type t ON t.oid = x.trftype WHERE t.typnamespace IN (SELECT oid FROM ns)
)
SELECT c.classid::oid AS classid, c.oid FROM contents c
WHERE c.oid >= 16384
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = c.classid AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
ORDER BY 1, 2";

/// The objects of schemas `names` a dump of them carries.
pub(super) async fn of_schemas(client: &Client, names: &[String]) -> Result<Vec<Node>> {
    Ok(client
        .query(SCHEMA_CONTENTS, &[&names])
        .await
        .context("cannot read the objects of the dumped schemas")?
        .iter()
        .map(|row| Node {
            class: row.get("classid"),
            oid: row.get("oid"),
        })
        .collect())
}

/// Read objects `oids` of `catalog`.
pub(super) async fn read(client: &Client, catalog: Catalog, oids: &[u32]) -> Result<Batch> {
    match catalog {
        Catalog::Type => types::read(client, oids).await,
        Catalog::Function => functions::read(client, oids).await,
        _ => identified(client, catalog, oids).await,
    }
}

/// Read objects `oids` of one of the catalogs whose objects are named by
/// their server identity.
async fn identified(client: &Client, catalog: Catalog, oids: &[u32]) -> Result<Batch> {
    let ddl = match catalog {
        Catalog::Operator | Catalog::OperatorClass | Catalog::OperatorFamily => {
            operators::read(client, catalog, oids).await?
        }
        _ => Ddl::read(client, query(catalog), oids, kind(catalog).label()).await?,
    };
    let mut identities: HashMap<u32, Row> = client
        .query(IDENTITIES, &[&catalog.class(), &oids])
        .await
        .context("cannot identify schema objects")?
        .into_iter()
        .map(|row| (row.get("oid"), row))
        .collect();
    let mut batch = Batch::default();
    for Ddl {
        oid,
        mut sql,
        uses,
        superuser,
    } in ddl
    {
        let Some(identity) = identities.remove(&oid) else {
            continue;
        };
        push_comment(&mut sql, identity.get("comment"));
        let object = SchemaObject::new(kind(catalog), identity.get("identity"), None, sql)
            .for_superuser(superuser);
        let mut defined = Defined::new(catalog.node(oid), identity.get("schema"), object);
        defined.uses = uses;
        batch.defined.push(defined);
    }
    Ok(batch)
}

/// The query (objects as $1) writing the DDL of `catalog`'s objects, for
/// the catalogs whose objects are written by one query alone.
fn query(catalog: Catalog) -> &'static str {
    match catalog {
        Catalog::Cast | Catalog::Transform => casts::query(catalog),
        Catalog::Collation | Catalog::Conversion => collations::query(catalog),
        Catalog::AccessMethod => access_methods::ACCESS_METHODS,
        Catalog::EventTrigger => event_triggers::EVENT_TRIGGERS,
        _ => text_search::query(catalog),
    }
}

/// The kind of the objects of `catalog`.
fn kind(catalog: Catalog) -> ObjectKind {
    match catalog {
        Catalog::Type => ObjectKind::Type,
        Catalog::Function => ObjectKind::Function,
        Catalog::Operator => ObjectKind::Operator,
        Catalog::OperatorClass => ObjectKind::OperatorClass,
        Catalog::OperatorFamily => ObjectKind::OperatorFamily,
        Catalog::Cast => ObjectKind::Cast,
        Catalog::Transform => ObjectKind::Transform,
        Catalog::Collation => ObjectKind::Collation,
        Catalog::Conversion => ObjectKind::Conversion,
        Catalog::TextSearchParser => ObjectKind::TextSearchParser,
        Catalog::TextSearchTemplate => ObjectKind::TextSearchTemplate,
        Catalog::TextSearchDictionary => ObjectKind::TextSearchDictionary,
        Catalog::TextSearchConfiguration => ObjectKind::TextSearchConfiguration,
        Catalog::AccessMethod => ObjectKind::AccessMethod,
        Catalog::EventTrigger => ObjectKind::EventTrigger,
    }
}

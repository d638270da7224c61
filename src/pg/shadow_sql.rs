//! The statements of `restore --jobs`: shadow tables built beside the
//! targets, then swapped in.
//!
//! The server writes them (`format` with `%I` and `%L`, from the catalog),
//! so every identifier is quoted by the server as its own deparsers quote
//! them, and a table is only swapped when every part of its definition is
//! one these statements rebuild.

use crate::ident::{quote_ident, QualifiedName};

/// Prefix of the private schemas shadow tables are built in.
pub const SHADOW_PREFIX: &str = "seedpack_shadow_";

/// The shadow schemas of runs that ended without removing them.
pub const SHADOW_SCHEMAS: &str = "
SELECT n.nspname FROM pg_catalog.pg_namespace n
WHERE n.nspname LIKE 'seedpack\\_shadow\\_%' AND pg_catalog.pg_has_role(n.nspowner, 'USAGE')
ORDER BY 1";

pub fn create_schema(schema: &str) -> String {
    format!("CREATE SCHEMA {}", quote_ident(schema))
}

pub fn drop_schema(schema: &str) -> String {
    format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(schema))
}

/// Why each of the tables $1 cannot be swapped (NULL: it can), and, for
/// those that can, what builds its shadow in the schema $2 (pairwise):
/// `create` (its columns, defaults, checks, identity, storage and
/// comments through LIKE, and its storage options), `build` (keys and
/// indexes, after the load, with their comments; clustering, replica
/// identity, column options, comment, owner and grants) and, for the swap,
/// `release` and `own` (sequences owned by its columns: released before the
/// old table is dropped, owned again after), `triggers` (its user triggers
/// and their comments), and `identity_columns` with `identity_sequences`
/// (each identity sequence's name, which the new one takes) and
/// `identity_types` (its data type, given back: LIKE makes it bigint).
pub const SWAP_PLANS: &str = r#"
WITH t AS (
  SELECT c.oid, c.relname, n.nspname, u.shadow, c.relkind, c.relpersistence, c.relispartition,
         c.relrowsecurity, c.reltablespace, c.reloptions, c.relacl, c.relowner, c.relreplident,
         c.reltype, a.amname,
         (SELECT tc.reloptions FROM pg_catalog.pg_class tc WHERE tc.oid = c.reltoastrelid) AS toastopts,
         pg_catalog.format('%I.%I', n.nspname, c.relname) AS qualified,
         pg_catalog.format('%I.%I', u.shadow, c.relname) AS shadowed
  FROM unnest($1::oid[], $2::text[]) AS u(oid, shadow)
  JOIN pg_catalog.pg_class c ON c.oid = u.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_am a ON a.oid = c.relam
), idx AS (
  SELECT x.indrelid, x.indexrelid, x.indisclustered, ic.relname,
         k.oid AS constraint_oid, k.conname,
         pg_catalog.pg_get_indexdef(x.indexrelid) AS def,
         pg_catalog.format('CREATE %sINDEX %I ON %s USING ',
                           CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END, ic.relname,
                           t.qualified) AS prefix,
         pg_catalog.format('CREATE %sINDEX %I ON %s USING ',
                           CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END, ic.relname,
                           t.shadowed) AS shadow_prefix
  FROM pg_catalog.pg_index x
  JOIN t ON t.oid = x.indrelid
  JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
  LEFT JOIN pg_catalog.pg_constraint k
    ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x')
)
SELECT t.oid,
  CASE
    WHEN t.relkind <> 'r' THEN 'partitioned'
    WHEN t.relispartition THEN 'a partition'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE t.oid IN (i.inhrelid, i.inhparent))
      THEN 'in an inheritance tree'
    WHEN t.relrowsecurity OR EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = t.oid)
      THEN 'under row-level security'
    WHEN t.reltablespace <> 0 THEN 'in a tablespace of its own'
    WHEN NOT pg_catalog.pg_has_role(t.relowner, 'MEMBER') THEN 'not owned by the restoring role'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_publication_rel r WHERE r.prrelid = t.oid)
      THEN 'in a publication'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_depend d
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = t.oid
                   AND d.deptype = 'e')
      THEN 'a member of an extension'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_seclabel l
                 WHERE l.classoid = 'pg_catalog.pg_class'::regclass AND l.objoid = t.oid)
      THEN 'with security labels'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_index x WHERE x.indrelid = t.oid
                 AND NOT (x.indisvalid AND x.indisready AND x.indislive))
      THEN 'with an invalid index'
    WHEN EXISTS (SELECT FROM idx WHERE idx.indrelid = t.oid AND idx.constraint_oid IS NULL
                 AND NOT starts_with(idx.def, idx.prefix))
      THEN 'with an index whose definition could not be moved'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_attribute ia JOIN pg_catalog.pg_index x
                   ON x.indexrelid = ia.attrelid
                 WHERE x.indrelid = t.oid AND ia.attstattarget >= 0)
      THEN 'with a statistics target on an index column'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conrelid = t.oid
                 AND k.contype <> 'f' AND NOT k.convalidated)
      THEN 'with a NOT VALID constraint'
    WHEN EXISTS (
      SELECT FROM pg_catalog.pg_depend d
      WHERE ((d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = t.oid)
             OR (d.refclassid = 'pg_catalog.pg_type'::regclass AND d.refobjid = t.reltype))
        AND d.deptype IN ('n', 'a')
        AND NOT (d.classid = 'pg_catalog.pg_class'::regclass
                 AND (EXISTS (SELECT FROM pg_catalog.pg_index x
                              WHERE x.indexrelid = d.objid AND x.indrelid = t.oid)
                      OR (d.deptype = 'a' AND EXISTS (SELECT FROM pg_catalog.pg_class s
                                                      WHERE s.oid = d.objid AND s.relkind = 'S'))))
        AND NOT (d.classid = 'pg_catalog.pg_constraint'::regclass
                 AND EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.oid = d.objid
                             AND (k.conrelid = t.oid OR (k.contype = 'f' AND k.confrelid = t.oid))))
        AND NOT (d.classid = 'pg_catalog.pg_trigger'::regclass
                 AND EXISTS (SELECT FROM pg_catalog.pg_trigger g WHERE g.oid = d.objid
                             AND g.tgrelid = t.oid))
        AND d.classid <> 'pg_catalog.pg_attrdef'::regclass
    ) THEN 'with views, rules, functions or statistics objects depending on it'
    WHEN EXISTS (SELECT FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid
                 WHERE d.refobjid = t.oid AND d.deptype = 'i' AND s.relkind = 'S'
                   AND (s.relacl IS NOT NULL
                        OR pg_catalog.obj_description(s.oid, 'pg_class') IS NOT NULL))
      THEN 'with grants or a comment on an identity sequence'
    WHEN EXISTS (SELECT FROM pg_catalog.aclexplode(t.relacl) e
                 WHERE e.grantor <> t.relowner)
      OR EXISTS (SELECT FROM pg_catalog.pg_attribute ca, pg_catalog.aclexplode(ca.attacl) e
                 WHERE ca.attrelid = t.oid AND e.grantor <> t.relowner)
      THEN 'with grants made by another role'
    WHEN t.relacl IS NOT NULL AND
         (SELECT pg_catalog.array_agg(e.privilege_type ORDER BY e.privilege_type)
          FROM pg_catalog.aclexplode(t.relacl) e WHERE e.grantee = t.relowner)
         IS DISTINCT FROM
         (SELECT pg_catalog.array_agg(e.privilege_type ORDER BY e.privilege_type)
          FROM pg_catalog.aclexplode(pg_catalog.acldefault('r', t.relowner)) e)
      THEN 'with its owner''s own privileges changed'
  END AS reason,
  pg_catalog.format('CREATE %sTABLE %s (LIKE %s INCLUDING ALL EXCLUDING INDEXES EXCLUDING STATISTICS)%s%s',
    CASE WHEN t.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, t.shadowed, t.qualified,
    CASE WHEN t.amname IS NOT NULL AND t.amname <> 'heap'
         THEN pg_catalog.format(' USING %I', t.amname) ELSE '' END,
    (SELECT pg_catalog.format(' WITH (%s)', pg_catalog.string_agg(o, ', '))
     FROM (SELECT pg_catalog.format('%s=%L', pg_catalog.split_part(r, '=', 1),
                                    pg_catalog.substr(r, pg_catalog.strpos(r, '=') + 1)) AS o
           FROM unnest(t.reloptions) r
           UNION ALL
           SELECT pg_catalog.format('toast.%s=%L', pg_catalog.split_part(r, '=', 1),
                                    pg_catalog.substr(r, pg_catalog.strpos(r, '=') + 1))
           FROM unnest(t.toastopts) r) opts
     HAVING pg_catalog.count(*) > 0)
  ) AS "create",
  ARRAY(
    SELECT s FROM (
      SELECT 1 AS step, idx.relname AS name,
             CASE WHEN idx.constraint_oid IS NOT NULL
                  THEN pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', t.shadowed,
                         idx.conname, pg_catalog.pg_get_constraintdef(idx.constraint_oid))
                  ELSE idx.shadow_prefix || pg_catalog.substr(idx.def, pg_catalog.length(idx.prefix) + 1)
             END AS s
      FROM idx WHERE idx.indrelid = t.oid
      UNION ALL
      SELECT 2, idx.relname, pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', idx.conname,
             t.shadowed, pg_catalog.obj_description(idx.constraint_oid, 'pg_constraint'))
      FROM idx WHERE idx.indrelid = t.oid
        AND pg_catalog.obj_description(idx.constraint_oid, 'pg_constraint') IS NOT NULL
      UNION ALL
      SELECT 2, idx.relname, pg_catalog.format('COMMENT ON INDEX %I.%I IS %L', t.shadow, idx.relname,
             pg_catalog.obj_description(idx.indexrelid, 'pg_class'))
      FROM idx WHERE idx.indrelid = t.oid
        AND pg_catalog.obj_description(idx.indexrelid, 'pg_class') IS NOT NULL
      UNION ALL
      SELECT 3, idx.relname, pg_catalog.format('ALTER TABLE %s CLUSTER ON %I', t.shadowed, idx.relname)
      FROM idx WHERE idx.indrelid = t.oid AND idx.indisclustered
      UNION ALL
      SELECT 3, '', pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY %s', t.shadowed,
             CASE t.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
             ELSE (SELECT pg_catalog.format('USING INDEX %I', idx.relname) FROM idx
                   JOIN pg_catalog.pg_index x ON x.indexrelid = idx.indexrelid
                   WHERE idx.indrelid = t.oid AND x.indisreplident) END)
      WHERE t.relreplident <> 'd'
      UNION ALL
      SELECT 4, ca.attname, pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS %s',
             t.shadowed, ca.attname, ca.attstattarget)
      FROM pg_catalog.pg_attribute ca
      WHERE ca.attrelid = t.oid AND ca.attnum > 0 AND NOT ca.attisdropped AND ca.attstattarget >= 0
      UNION ALL
      SELECT 4, ca.attname, pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET (%s)', t.shadowed,
             ca.attname, pg_catalog.array_to_string(ca.attoptions, ', '))
      FROM pg_catalog.pg_attribute ca
      WHERE ca.attrelid = t.oid AND ca.attnum > 0 AND NOT ca.attisdropped AND ca.attoptions IS NOT NULL
      UNION ALL
      SELECT 5, '', pg_catalog.format('COMMENT ON TABLE %s IS %L', t.shadowed,
             pg_catalog.obj_description(t.oid, 'pg_class'))
      WHERE pg_catalog.obj_description(t.oid, 'pg_class') IS NOT NULL
      UNION ALL
      SELECT 5, '', pg_catalog.format('ALTER TABLE %s OWNER TO %I', t.shadowed,
             pg_catalog.pg_get_userbyid(t.relowner))
      WHERE t.relowner <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
      UNION ALL
      SELECT 6, '', pg_catalog.format('GRANT %s ON TABLE %s TO %s%s', e.privilege_type, t.shadowed,
             CASE WHEN e.grantee = 0 THEN 'PUBLIC'
                  ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.grantee)) END,
             CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
      FROM pg_catalog.aclexplode(t.relacl) e WHERE e.grantee <> t.relowner
      UNION ALL
      SELECT 6, ca.attname, pg_catalog.format('GRANT %s (%I) ON TABLE %s TO %s%s', e.privilege_type,
             ca.attname, t.shadowed,
             CASE WHEN e.grantee = 0 THEN 'PUBLIC'
                  ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.grantee)) END,
             CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
      FROM pg_catalog.pg_attribute ca, pg_catalog.aclexplode(ca.attacl) e
      WHERE ca.attrelid = t.oid AND ca.attnum > 0 AND NOT ca.attisdropped
    ) steps ORDER BY step, name, s
  ) AS build,
  ARRAY(
    SELECT pg_catalog.format('ALTER SEQUENCE %I.%I OWNED BY NONE', sn.nspname, s.relname)
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = t.oid AND d.deptype = 'a'
    ORDER BY 1
  ) AS release,
  ARRAY(
    SELECT pg_catalog.format('ALTER SEQUENCE %I.%I OWNED BY %s.%I', sn.nspname, s.relname,
                             t.qualified, ca.attname)
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_catalog.pg_attribute ca ON ca.attrelid = t.oid AND ca.attnum = d.refobjsubid
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = t.oid AND d.deptype = 'a'
    ORDER BY 1
  ) AS own,
  ARRAY(
    SELECT x FROM (
      SELECT g.tgname, 1 AS step, pg_catalog.pg_get_triggerdef(g.oid) AS x
      FROM pg_catalog.pg_trigger g WHERE g.tgrelid = t.oid AND NOT g.tgisinternal
      UNION ALL
      SELECT g.tgname, 2, pg_catalog.format('COMMENT ON TRIGGER %I ON %s IS %L', g.tgname,
             t.qualified, pg_catalog.obj_description(g.oid, 'pg_trigger'))
      FROM pg_catalog.pg_trigger g WHERE g.tgrelid = t.oid AND NOT g.tgisinternal
        AND pg_catalog.obj_description(g.oid, 'pg_trigger') IS NOT NULL
    ) triggers ORDER BY tgname, step
  ) AS triggers,
  ARRAY(
    SELECT ca.attname::text
    FROM pg_catalog.pg_attribute ca
    WHERE ca.attrelid = t.oid AND ca.attidentity <> '' AND NOT ca.attisdropped
    ORDER BY ca.attnum
  ) AS identity_columns,
  ARRAY(
    SELECT pg_catalog.pg_get_serial_sequence(t.qualified, ca.attname)
    FROM pg_catalog.pg_attribute ca
    WHERE ca.attrelid = t.oid AND ca.attidentity <> '' AND NOT ca.attisdropped
    ORDER BY ca.attnum
  ) AS identity_sequences,
  ARRAY(
    SELECT pg_catalog.format('ALTER SEQUENCE %s AS %s',
             pg_catalog.pg_get_serial_sequence(t.qualified, ca.attname),
             pg_catalog.format_type(s.seqtypid, NULL))
    FROM pg_catalog.pg_attribute ca
    JOIN pg_catalog.pg_sequence s
      ON s.seqrelid = pg_catalog.pg_get_serial_sequence(t.qualified, ca.attname)::regclass
    WHERE ca.attrelid = t.oid AND ca.attidentity <> '' AND NOT ca.attisdropped
    ORDER BY ca.attnum
  ) AS identity_types
FROM t"#;

pub fn rename_sequence(sequence: &QualifiedName, name: &str) -> String {
    format!(
        "ALTER SEQUENCE {} RENAME TO {}",
        sequence.quoted(),
        quote_ident(name)
    )
}

/// Statements that move a built shadow table in for its target.
pub fn swap(target: &QualifiedName, shadow_schema: &str) -> [String; 2] {
    let shadow = QualifiedName::new(shadow_schema, target.name.clone());
    [
        format!("DROP TABLE {}", target.quoted()),
        format!(
            "ALTER TABLE {} SET SCHEMA {}",
            shadow.quoted(),
            quote_ident(&target.schema)
        ),
    ]
}

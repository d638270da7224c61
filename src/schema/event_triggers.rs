//! Event triggers whose function a dump carries, with their tags and
//! firing state. Only a superuser can create one; they are created last,
//! so that none fires on the restore's own DDL.

/// Event triggers $1, as `CREATE EVENT TRIGGER` and `ALTER EVENT TRIGGER`
/// spell them.
pub(super) const EVENT_TRIGGERS: &str = "
SELECT e.oid,
       pg_catalog.format('CREATE EVENT TRIGGER %I ON %I%s EXECUTE FUNCTION %s();', e.evtname, e.evtevent,
                         CASE WHEN e.evttags IS NOT NULL THEN
                              ' WHEN TAG IN (' || (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(t), ', ')
                                                   FROM unnest(e.evttags) AS t) || ')'
                              ELSE '' END,
                         e.evtfoid::regproc::text)
       || CASE e.evtenabled WHEN 'D' THEN pg_catalog.format(E'\\nALTER EVENT TRIGGER %I DISABLE;', e.evtname)
                            WHEN 'R' THEN pg_catalog.format(E'\\nALTER EVENT TRIGGER %I ENABLE REPLICA;', e.evtname)
                            WHEN 'A' THEN pg_catalog.format(E'\\nALTER EVENT TRIGGER %I ENABLE ALWAYS;', e.evtname)
                            ELSE '' END AS sql,
       true AS superuser
FROM pg_catalog.pg_event_trigger e WHERE e.oid = ANY($1) ORDER BY 1";

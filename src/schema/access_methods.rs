//! Access methods a user created (`CREATE ACCESS METHOD`): carried when a
//! dumped table or index uses one. Creating one takes a superuser.

/// Access methods $1, as `CREATE ACCESS METHOD` spells them.
pub(super) const ACCESS_METHODS: &str = "
SELECT a.oid, pg_catalog.format('CREATE ACCESS METHOD %I TYPE %s HANDLER %s;', a.amname,
         CASE a.amtype WHEN 't' THEN 'TABLE' ELSE 'INDEX' END, a.amhandler::regproc::text) AS sql,
       true AS superuser
FROM pg_catalog.pg_am a WHERE a.oid = ANY($1) ORDER BY 1";

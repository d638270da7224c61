//! Self-references and cycles restore without superuser, constraints exact.

use crate::roundtrip::fixture_pair;
use crate::support::{dump, dump_with, manifest_json, restore, scratch};

const CONSTRAINTS: &str = "
SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
       || ' ' || condeferrable || ' ' || condeferred || ' ' || convalidated
FROM pg_constraint WHERE contype = 'f' ORDER BY 1";

#[test]
fn cycles_and_self_references_restore_with_every_constraint_unchanged() {
    let (src, dst) = fixture_pair("cycles");
    let constraints_before = dst.sql(CONSTRAINTS);
    assert!(constraints_before
        .contains("cyc_b_c_fk FOREIGN KEY (c_id) REFERENCES cyc_c(id) DEFERRABLE true false"));
    assert!(constraints_before.contains("cyc_c_a_fk FOREIGN KEY (a_id) REFERENCES cyc_a(id) DEFERRABLE INITIALLY DEFERRED true true"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "cycles");

    let manifest = manifest_json(&artifact);
    let cycles = manifest["cycles"].to_string();
    assert!(
        cycles.contains("\"author\"") && cycles.contains("\"book\""),
        "{cycles}"
    );
    assert!(
        cycles.contains("\"cyc_a\"") && cycles.contains("\"cyc_c\""),
        "{cycles}"
    );
    assert!(manifest["self_references"]
        .to_string()
        .contains("\"category\""));

    restore(&dst, &artifact).ok();
    assert_eq!(dst.sql(CONSTRAINTS), constraints_before);
    for query in [
        "SELECT string_agg(id || '>' || coalesce(parent_id::text, '-'), ',' ORDER BY id) FROM public.category",
        "SELECT string_agg(id || '>' || favourite_book_id, ',' ORDER BY id) FROM public.author",
        "SELECT string_agg(id || '>' || b_id, ',' ORDER BY id) FROM public.cyc_a",
        "SELECT string_agg(id || '>' || c_id, ',' ORDER BY id) FROM public.cyc_b",
        "SELECT string_agg(id || '>' || a_id, ',' ORDER BY id) FROM public.cyc_c",
    ] {
        assert_eq!(dst.sql(query), src.sql(query), "{query}");
    }
    // The re-added keys are enforced, as before.
    assert!(dst
        .try_sql("INSERT INTO public.category VALUES (50, 999, 'orphan')")
        .is_err());
    assert!(dst
        .try_sql("UPDATE public.author SET favourite_book_id = 999")
        .is_err());
    // The constraint comment came back too.
    assert_eq!(
        dst.sql("SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint WHERE conname = 'author_favourite_book_fk'"),
        "an author's favourite"
    );
}

#[test]
fn data_that_breaks_a_foreign_key_rolls_back_naming_the_constraint() {
    let (src, dst) = fixture_pair("fkfail");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "books", &["--table", "book"]);
    // The target lacks author 2, whom the artifact's books reference.
    dst.sql(&crate::support::fixture("core_data.sql"));
    dst.sql(
        "UPDATE public.author SET favourite_book_id = NULL;
         DELETE FROM public.book WHERE author_id = 2;
         DELETE FROM public.author WHERE id = 2;",
    );
    let before = dst.snapshot();
    let run = restore(&dst, &artifact).expect_code(1);
    assert!(run.stderr.contains("book_author_id_fkey"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert_eq!(dst.snapshot(), before);
}

//! What each fuzz target checks, given any bytes. Shared by the seeded runs
//! on stable Rust (`cargo test --test fuzz`) and the cargo-fuzz targets
//! under `fuzz/` (which include this file), so both hold the same
//! properties. A target returns normally when the property holds and
//! panics when it does not.

use std::io::Write;

use seedpack::artifact::{ArtifactReader, CopyChecker, Manifest};
use seedpack::pg::ConnectionTarget;

/// Any bytes, read as an artifact: opening and fully checking return Ok or
/// an error, never panic. (The reader works on files.)
pub fn artifact(data: &[u8]) {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(data).expect("write the input");
    if let Ok(reader) = ArtifactReader::open(file.path()) {
        let _ = reader.check_members(true);
    }
}

/// Any bytes, parsed as a manifest: Ok or an error, and what parses is
/// consistent enough to parse again, unchanged, once written back.
pub fn manifest(data: &[u8]) {
    let Ok(manifest) = Manifest::parse(data) else {
        return;
    };
    let written = serde_json::to_vec(&manifest).expect("a parsed manifest serializes");
    let again = Manifest::parse(&written).expect("a parsed manifest, written back, parses");
    assert_eq!(again, manifest, "a manifest changed on its way back");
}

/// COPY text checked by [`CopyChecker`]: the first byte gives the number of
/// columns, the next two where the text is cut into three writes. The
/// verdict must not depend on how the text is cut, and must be the one of
/// [`copy_text_reference`], an independent whole-buffer reading of the
/// format.
pub fn copy_text(data: &[u8]) {
    let [columns, first, second, text @ ..] = data else {
        return;
    };
    let columns = usize::from(columns % 6);
    let whole = check_copy_text(columns, &[text]);
    let a = usize::from(*first).min(text.len());
    let b = (a + usize::from(*second)).min(text.len());
    let cut = check_copy_text(columns, &[&text[..a], &text[a..b], &text[b..]]);
    assert_eq!(
        whole, cut,
        "the verdict changed with where the text was cut"
    );
    let expected = copy_text_reference(columns, text);
    assert_eq!(
        whole.is_ok(),
        expected.is_ok(),
        "checker says {whole:?}, the reference {expected:?}"
    );
}

fn check_copy_text(columns: usize, chunks: &[&[u8]]) -> Result<(), String> {
    let mut checker = CopyChecker::new("t", columns);
    for chunk in chunks {
        if checker.write_all(chunk).is_err() {
            break;
        }
    }
    checker.finish().map_err(|e| e.to_string())
}

/// COPY text as PostgreSQL's documentation defines it, read from a whole
/// buffer: rows end at a newline not preceded by an escaping backslash,
/// fields at such a tab; every row has the table's number of fields (one
/// for a table of no columns); no row is exactly the end marker `\.`; the
/// text ends with a newline. (No field this small reaches the 1 GB limit.)
pub fn copy_text_reference(columns: usize, text: &[u8]) -> Result<(), String> {
    let mut rows = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    let mut fields = 1;
    for (i, &b) in text.iter().enumerate() {
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'\t') => fields += 1,
            (false, b'\n') => {
                rows.push((&text[start..i], fields));
                start = i + 1;
                fields = 1;
            }
            _ => {}
        }
    }
    if start != text.len() {
        return Err("the last row does not end with a newline".into());
    }
    for (row, fields) in rows {
        if row == b"\\." {
            return Err("end marker".into());
        }
        if fields != columns.max(1) {
            return Err(format!("{fields} fields"));
        }
    }
    Ok(())
}

/// A connection string built from the bytes (see [`Choices`]) around a
/// password: whether it resolves or not, neither its error nor the
/// target's description may show any part of the password. A first byte
/// of 255 makes the rest a raw string, checked only for not panicking.
pub fn dsn(data: &[u8]) {
    if let [255, raw @ ..] = data {
        let _ = ConnectionTarget::resolve(Some(&String::from_utf8_lossy(raw)), &|_| None);
        return;
    }
    let mut choices = Choices(data);
    let password = choices.password();
    let dsn = if choices.below(2) == 0 {
        choices.url(&password)
    } else {
        choices.key_values(&password)
    };
    let shown = match ConnectionTarget::resolve(Some(&dsn), &|_| None) {
        Ok(target) => format!("{target} {target:?}"),
        Err(error) => error.to_string(),
    };
    for piece in password_pieces(&password) {
        assert!(
            !shown.contains(piece),
            "the password's {piece:?} shows in {shown:?} (connection string {dsn:?})"
        );
    }
}

/// The parts of a password that would give it away: itself, and every run
/// of four of its distinctive characters (capitals and digits, which no
/// message of seedpack's spells four in a row).
fn password_pieces(password: &str) -> Vec<&str> {
    let mut pieces = vec![password];
    let bytes = password.as_bytes();
    for start in 0..bytes.len().saturating_sub(3) {
        let window = &bytes[start..start + 4];
        if window
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            pieces.push(&password[start..start + 4]);
        }
    }
    pieces
}

/// Decisions drawn from the input's bytes (zero once they run out), the
/// way libFuzzer's structured targets read them.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn pick<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.below(options.len())]
    }

    /// Six to twelve capitals and digits, with characters that mean
    /// something in a connection string mixed in.
    fn password(&mut self) -> String {
        const PLAIN: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        const SPECIAL: &[u8] = b"@:/?&=#%' \\,[]";
        let length = 6 + self.below(7);
        (0..length)
            .map(|_| match self.below(4) {
                0 => char::from(SPECIAL[self.below(SPECIAL.len())]),
                _ => char::from(PLAIN[self.below(PLAIN.len())]),
            })
            .collect()
    }

    fn word(&mut self) -> String {
        let length = self.below(9);
        (0..length)
            .map(|_| match self.below(12) {
                0 => char::from(b"_-.%@:/ "[self.below(8)]),
                _ => char::from(b'a' + self.byte() % 26),
            })
            .collect()
    }

    fn host(&mut self) -> String {
        let host = self.pick(&[
            "localhost",
            "127.0.0.1",
            "[::1]",
            "db.example.com",
            "%2Fvar%2Frun%2Fpostgresql",
            "",
            "h1,h2",
        ]);
        let port = self.pick(&["", ":5432", ":0", ":99999", ":x", ":5432,5433", ":"]);
        format!("{host}{port}")
    }

    fn option(&mut self) -> (String, String) {
        let key = self
            .pick(&[
                "sslmode",
                "port",
                "connect_timeout",
                "application_name",
                "options",
                "user",
                "host",
                "nosuchoption",
                "Bad Key",
            ])
            .to_owned();
        (key, self.word())
    }

    /// `postgres://user:password@host/db?options`, the password encoded,
    /// raw, or half of each.
    fn url(&mut self, password: &str) -> String {
        let user = self.word();
        let scheme = self.pick(&["postgres://", "postgresql://", "postgres:/", "mysql://"]);
        let encoded: String = match self.below(3) {
            0 => {
                percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            }
            1 => password.to_owned(),
            _ => password.replace('@', "%40"),
        };
        let host = self.host();
        let database = self.word();
        let mut url = format!("{scheme}{user}:{encoded}@{host}/{database}");
        for i in 0..self.below(3) {
            let (key, value) = self.option();
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{key}={value}"));
        }
        url
    }

    /// `host=... password=... dbname=...`, the password quoted and escaped,
    /// or not.
    fn key_values(&mut self, password: &str) -> String {
        let quoted = match self.below(2) {
            0 => format!("'{}'", password.replace('\\', "\\\\").replace('\'', "\\'")),
            _ => password.to_owned(),
        };
        let mut pairs = vec![format!("password={quoted}")];
        for _ in 0..self.below(4) {
            let (key, value) = self.option();
            pairs.push(format!("{key}={value}"));
        }
        let at = self.below(pairs.len());
        pairs.swap(0, at);
        pairs.join(" ")
    }
}

//! Checking a table's data is COPY text the server will load: every line
//! has the table's number of columns, none is the end-of-data marker, and
//! no field is over PostgreSQL's 1 GB limit once its escapes are decoded.
//! A checksum proves the data is what the dump wrote; this proves it is
//! what a restore can load, so a crafted artifact with honest checksums is
//! refused before any connection rather than by the server midway.

use std::io::{self, Write};

use super::ArtifactError;

/// The largest value PostgreSQL stores in one field.
pub const FIELD_LIMIT: u64 = 1 << 30;

/// After a backslash, how the escape goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    /// Right after the backslash.
    Started,
    /// Inside `\ooo` or `\xhh`: this many more digits may follow.
    Digits {
        octal: bool,
        left: u8,
    },
}

/// Checks COPY text fed in chunks; [`CopyChecker::finish`] reports.
#[derive(Debug)]
pub struct CopyChecker {
    table: String,
    columns: usize,
    line: u64,
    fields: usize,
    field_bytes: u64,
    /// The current line so far is exactly `\` (then maybe `.`).
    marker: u8,
    escape: Escape,
    problem: Option<String>,
}

impl CopyChecker {
    /// A checker for `table`'s data, whose rows hold `columns` fields.
    pub fn new(table: &str, columns: usize) -> Self {
        Self {
            table: table.to_owned(),
            columns,
            line: 1,
            fields: 1,
            field_bytes: 0,
            marker: 0,
            escape: Escape::None,
            problem: None,
        }
    }

    fn fail(&mut self, what: String) {
        if self.problem.is_none() {
            self.problem = Some(format!("line {}: {what}", self.line));
        }
    }

    fn byte(&mut self, b: u8) {
        let starts_line = self.fields == 1 && self.field_bytes == 0 && self.escape == Escape::None;
        self.marker = match (self.marker, b) {
            (marker, b'\n') => marker,
            (0, b'\\') if starts_line => 1,
            (1, b'.') => 2,
            _ => 3,
        };
        if let Escape::Digits { octal, left } = self.escape {
            let digit = if octal {
                (b'0'..=b'7').contains(&b)
            } else {
                b.is_ascii_hexdigit()
            };
            if digit && left > 0 {
                self.escape = Escape::Digits {
                    octal,
                    left: left - 1,
                };
                return;
            }
            self.escape = Escape::None;
        }
        match (self.escape, b) {
            (Escape::Started, _) => {
                self.escape = match b {
                    b'0'..=b'7' => Escape::Digits {
                        octal: true,
                        left: 2,
                    },
                    b'x' => Escape::Digits {
                        octal: false,
                        left: 2,
                    },
                    _ => Escape::None,
                };
                self.field_bytes += 1;
            }
            (_, b'\\') => self.escape = Escape::Started,
            (_, b'\t') => {
                self.fields += 1;
                self.field_bytes = 0;
            }
            (_, b'\n') => self.end_line(),
            _ => self.field_bytes += 1,
        }
        if self.field_bytes > FIELD_LIMIT {
            self.fail(format!(
                "a field over PostgreSQL's {FIELD_LIMIT}-byte limit"
            ));
        }
    }

    fn end_line(&mut self) {
        if self.marker == 2 {
            self.fail("the end-of-data marker \\. inside the data".into());
        }
        let expected = self.columns.max(1);
        if self.fields != expected {
            let fields = self.fields;
            self.fail(format!("{fields} fields, the table has {expected} columns"));
        }
        self.line += 1;
        self.fields = 1;
        self.field_bytes = 0;
        self.marker = 0;
        self.escape = Escape::None;
    }

    /// The verdict once all the data went by.
    pub fn finish(mut self) -> Result<(), ArtifactError> {
        if self.fields != 1 || self.field_bytes != 0 || self.escape != Escape::None {
            self.fail("the last row does not end with a newline".into());
        }
        match self.problem {
            None => Ok(()),
            Some(problem) => Err(ArtifactError::Damaged(format!(
                "table {} is not COPY text the server can load: {problem}",
                self.table
            ))),
        }
    }
}

/// Bytes written are checked. At the first problem the write fails, so
/// that a copy into the checker stops there (a bomb is not expanded to its
/// end); [`CopyChecker::finish`] says what the problem was.
impl Write for CopyChecker {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            self.byte(b);
            if self.problem.is_some() {
                return Err(io::Error::other("not COPY text"));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(columns: usize, text: &[u8]) -> Result<(), String> {
        let mut checker = CopyChecker::new("t", columns);
        let _ = checker.write_all(text);
        checker.finish().map_err(|e| e.to_string())
    }

    #[test]
    fn dumped_text_passes() {
        assert_eq!(
            check(3, b"1\ta\\tb\\nc\t\\N\n2\t\\\\\t\\x41\\101\n"),
            Ok(())
        );
        assert_eq!(check(0, b"\n\n"), Ok(()));
        assert_eq!(
            check(1, b"\\.x\n"),
            Ok(()),
            "a value that only starts like the marker"
        );
        assert_eq!(check(2, b""), Ok(()));
    }

    #[test]
    fn what_the_server_would_refuse_is_named() {
        assert!(check(3, b"1\ta\n")
            .unwrap_err()
            .contains("line 1: 2 fields, the table has 3 columns"));
        assert!(check(2, b"1\ta\n2\tb\tc\n")
            .unwrap_err()
            .contains("line 2: 3 fields"));
        assert!(check(1, b"1\n\\.\n2\n")
            .unwrap_err()
            .contains("line 2: the end-of-data marker"));
        assert!(check(2, b"1\ta")
            .unwrap_err()
            .contains("does not end with a newline"));
    }

    #[test]
    fn fields_over_the_limit_are_refused_by_their_decoded_size() {
        let mut checker = CopyChecker::new("t", 1);
        checker.write_all(b"a").unwrap();
        checker.field_bytes = FIELD_LIMIT;
        assert!(
            checker.write_all(b"a\n").is_err(),
            "the copy stops at the problem"
        );
        assert!(checker
            .finish()
            .unwrap_err()
            .to_string()
            .contains("over PostgreSQL's"));
        // Escapes decode to one byte each: 2 GiB of "\\" text is a 1 GiB value.
        let mut escaped = CopyChecker::new("t", 1);
        escaped.field_bytes = FIELD_LIMIT - 2;
        escaped.write_all(b"\\\\\\x41\n").unwrap();
        assert_eq!(escaped.finish().map_err(|e| e.to_string()), Ok(()));
    }
}

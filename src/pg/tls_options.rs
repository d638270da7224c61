//! Taking the TLS options out of a connection string, so that seedpack
//! applies them (tokio-postgres knows only three `sslmode`s and no
//! certificate files) and tokio-postgres parses the rest.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::error::Error;

/// The options seedpack handles itself.
const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// Split `dsn` into the connection string without TLS options, and those
/// options as (key, value). URL and key=value forms.
pub fn take_tls_options(dsn: &str) -> Result<(String, Vec<(String, String)>), Error> {
    if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
        Ok(from_url(dsn))
    } else {
        from_key_values(dsn)
    }
}

fn from_url(dsn: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = dsn.split_once('?') else {
        return (dsn.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        if TLS_KEYS.contains(&key.as_ref()) {
            taken.push((key.into_owned(), decode(value).into_owned()));
        } else {
            kept.push(pair);
        }
    }
    let rebuilt = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rebuilt, taken)
}

fn decode(text: &str) -> Cow<'_, str> {
    percent_decode_str(text).decode_utf8_lossy()
}

/// libpq's key=value syntax: `key = value`, values optionally in single
/// quotes, backslash escaping a quote or backslash.
fn from_key_values(dsn: &str) -> Result<(String, Vec<(String, String)>), Error> {
    let mut chars = dsn.chars().peekable();
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut taken = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(Error::BadDsn(format!("expected = after {key:?}")));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(Error::BadDsn(format!(
                            "unterminated quote in the value of {key}"
                        )))
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        if TLS_KEYS.contains(&key.as_str()) {
            taken.push((key, value));
        } else {
            kept.push((key, value));
        }
    }
    let rebuilt = kept
        .iter()
        .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(" ");
    Ok((rebuilt, taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_tls_options_out_of_urls() {
        let (rest, tls) = take_tls_options(
            "postgres://u:p@h/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fca%20dir%2Froot.crt",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@h/db?application_name=x");
        assert_eq!(
            tls,
            vec![
                ("sslmode".into(), "verify-full".into()),
                ("sslrootcert".into(), "/tmp/ca dir/root.crt".into())
            ]
        );
    }

    #[test]
    fn takes_tls_options_out_of_key_values() {
        let (rest, tls) = take_tls_options(
            "host=h  sslmode = require password='it\\'s secret' sslcert='/a b/c.crt'",
        )
        .unwrap();
        assert_eq!(rest, "host='h' password='it\\'s secret'");
        assert_eq!(
            tls,
            vec![
                ("sslmode".into(), "require".into()),
                ("sslcert".into(), "/a b/c.crt".into())
            ]
        );
        assert!(take_tls_options("host").is_err());
        assert!(take_tls_options("password='open").is_err());
    }
}

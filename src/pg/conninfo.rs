//! libpq connection strings, in their two forms (`postgres://` URLs and
//! `key=value` pairs), checked before tokio-postgres parses them, with the
//! TLS options taken out so that seedpack applies them (tokio-postgres knows
//! only three `sslmode`s and no certificate files).
//!
//! Every message here names the problem (an unknown scheme, an unencoded
//! `@`, an unknown option, a bad port) and never quotes text that could be
//! part of a password: a value is shown only where it cannot be one.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::error::Error;

/// The options seedpack handles itself.
const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// The other options a connection string may hold: tokio-postgres's.
const KEYS: [&str; 17] = [
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// A connection string split in two: what tokio-postgres parses, and the
/// TLS options as (key, value).
pub type Split = (String, Vec<(String, String)>);

/// Check `dsn` and split it. URL and key=value forms.
pub fn take_tls_options(dsn: &str) -> Result<Split, Error> {
    match url_scheme(dsn) {
        Some("postgres" | "postgresql") => from_url(dsn),
        Some(scheme) => Err(bad(format!(
            "unknown scheme {scheme:?}: a connection URL starts with postgres:// or postgresql://"
        ))),
        None if dsn.contains("://") => Err(bad(
            "a connection URL starts with postgres:// or postgresql://".into(),
        )),
        None => from_key_values(dsn),
    }
}

fn bad(message: String) -> Error {
    Error::BadDsn(message)
}

/// The scheme of a URL-shaped string (`name://`), when it is one.
fn url_scheme(dsn: &str) -> Option<&str> {
    let (scheme, _) = dsn.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let is_scheme = first.is_ascii_alphabetic()
        && scheme.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    is_scheme.then_some(scheme)
}

fn from_url(dsn: &str) -> Result<Split, Error> {
    let rest = dsn.split_once("://").map_or("", |(_, rest)| rest);
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    check_authority(before_query, query.contains('@'))?;
    let base = &dsn[..dsn.len() - rest.len() + before_query.len()];
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        check_key(&key, false)?;
        if TLS_KEYS.contains(&key.as_ref()) {
            taken.push((key.into_owned(), decode(value).into_owned()));
        } else {
            if key == "port" {
                check_port(&decode(value), true)?;
            }
            kept.push(pair);
        }
    }
    let rebuilt = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rebuilt, taken))
}

/// `user:password@host:port,.../dbname`: at most one `@` (tokio-postgres
/// splits at the first, so a second one would put part of the password in
/// the host), and ports that are numbers. `at_in_query`: an `@` follows
/// the `?`, so the `?` may be a password's own and what stands between it
/// and the host's `:` part of the password.
fn check_authority(before_query: &str, at_in_query: bool) -> Result<(), Error> {
    let ats = before_query.matches('@').count();
    if ats > 1 {
        return Err(bad(
            "the URL's user or password holds an unencoded '@': write it as %40".into(),
        ));
    }
    let hosts = match before_query.split_once('@') {
        Some((credentials, hosts)) => {
            // `user:password@/...`: a host is missing, or the '@' was the
            // password's own and what follows it is the password's rest.
            if credentials.contains(':') && hosts.split('/').next().unwrap_or("").is_empty() {
                return Err(bad(
                    "no host after the URL's '@' (a password holding '@' writes it as %40; \
                     a socket directory goes in ?host=/path)"
                        .into(),
                ));
            }
            hosts
        }
        None => before_query,
    };
    let hosts = hosts.split('/').next().unwrap_or("");
    for host in hosts.split(',') {
        // [::1]:5432 or name:5432; a bare IPv6 address has no port.
        let (name, port) = match host.strip_prefix('[') {
            Some(v6) => match v6.split_once("]:") {
                Some((address, port)) => (address, Some(port)),
                None => (v6.trim_end_matches(']'), None),
            },
            None => match host.rsplit_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (host, None),
            },
        };
        if !is_host_name(&decode(name)) {
            return Err(bad(
                "the URL's host is not a host name, an IP address or a socket directory \
                 (a password holding '@', '/', ':' or '?' writes them percent-encoded)"
                    .into(),
            ));
        }
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            // Without an '@', what stands after a ':' may be a password
            // whose user forgot the host: never show it then.
            let credentials_before = ats == 1 && !at_in_query;
            check_port(&decode(port), credentials_before).map_err(|e| match ats {
                1 if credentials_before => e,
                _ => bad(
                    "the URL's port is not a number (a user and password go before an '@': \
                     postgres://user:password@host:5432/db)"
                        .into(),
                ),
            })?;
        }
    }
    Ok(())
}

/// A DNS name, an IPv4 or IPv6 address, or (percent-encoded in a URL) the
/// absolute path of a socket directory. Empty: the default host.
fn is_host_name(host: &str) -> bool {
    host.starts_with('/')
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c))
}

/// A port, or a comma-separated list of them, must be numbers 1-65535.
/// `show` says whether the value may be quoted in the message. A value
/// holding `=` never is: after an empty `port=` and a space, libpq reads
/// the next pair (`password=...`) as the port's value.
fn check_port(value: &str, show: bool) -> Result<(), Error> {
    let show = show && !value.contains('=');
    for port in value.split(',') {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad(if show {
                format!("bad port {port:?}: a port is a number from 1 to 65535")
            } else {
                "bad port: a port is a number from 1 to 65535".into()
            }));
        }
    }
    Ok(())
}

/// `key= next=...`: the message names the key only when it is a known
/// one (an unknown word may be part of a password).
fn empty_value(key: &str) -> String {
    if KEYS.contains(&key) || TLS_KEYS.contains(&key) {
        format!(
            "option {key} has an empty value followed by a space: write {key}='' or leave it out"
        )
    } else {
        "an option has an empty value followed by a space: write key='' or leave it out".into()
    }
}

/// An option name must be one libpq and seedpack share. `after_password`:
/// the word follows an unquoted password, so it may be the rest of it.
fn check_key(key: &str, after_password: bool) -> Result<(), Error> {
    if KEYS.contains(&key) || TLS_KEYS.contains(&key) {
        return Ok(());
    }
    let looks_like_a_key = !key.is_empty()
        && key.len() <= 40
        && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    Err(bad(if looks_like_a_key && !after_password {
        format!("unknown option {key:?}")
    } else {
        "unknown option (a value holding spaces needs quotes: password='a b')".into()
    }))
}

fn decode(text: &str) -> Cow<'_, str> {
    percent_decode_str(text).decode_utf8_lossy()
}

/// libpq's key=value syntax: `key = value`, values optionally in single
/// quotes, backslash escaping a quote or backslash.
fn from_key_values(dsn: &str) -> Result<Split, Error> {
    let pairs = key_values(dsn)?;
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut taken = Vec::new();
    let mut after_unquoted_password = false;
    for (key, value, quoted) in pairs {
        check_key(&key, after_unquoted_password)?;
        after_unquoted_password = key == "password" && !quoted;
        if key == "port" {
            check_port(&value, true)?;
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

/// The (key, value, quoted) pairs of a key=value string. A word without
/// `=` is an error that never quotes the word: it may be half a password.
fn key_values(dsn: &str) -> Result<Vec<(String, String, bool)>, Error> {
    let mut chars = dsn.chars().peekable();
    let mut pairs = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(pairs);
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
            return Err(bad(
                "expected key=value pairs or a postgres:// URL (a value holding spaces \
                 needs quotes: password='a b')"
                    .into(),
            ));
        }
        let mut spaced = false;
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
            spaced = true;
        }
        let mut value = String::new();
        let quoted = chars.peek() == Some(&'\'');
        if quoted {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(bad("a quoted value has no closing quote".into())),
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
        if spaced && !quoted && value.contains('=') {
            // libpq would take the next pair whole as this key's value.
            return Err(bad(empty_value(&key)));
        }
        pairs.push((key, value, quoted));
    }
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

    fn message(dsn: &str) -> String {
        take_tls_options(dsn).unwrap_err().to_string()
    }

    #[test]
    fn names_the_problem_without_the_password() {
        let cases = [
            (
                "postgress://app:hunter2@host/db",
                "unknown scheme \"postgress\"",
            ),
            ("postgres://app:hun@ter2@host/db", "unencoded '@'"),
            ("host=h prot=1 password=hunter2", "unknown option \"prot\""),
            (
                "postgres://app:hunter2@host:39574x/db",
                "bad port \"39574x\"",
            ),
            ("host=h port=39574x password=hunter2", "bad port \"39574x\""),
            (
                "postgres://app:hunter2@h/db?prot=1",
                "unknown option \"prot\"",
            ),
            ("postgres://app:hunter2/db", "port is not a number"),
            ("password=hunter2 more", "expected key=value pairs"),
            ("password=hun ter2=x", "needs quotes"),
            ("weird:// app:hunter2", "starts with postgres://"),
            // Found by fuzzing (tests/fuzz): libpq reads `port= password=x`
            // as port "password=x", and a '?' in the password ends the host.
            ("port= password=hunter2", "option port has an empty value"),
            ("user= password=hunter2", "option user has an empty value"),
            (
                "postgres://a@b:hunter2?@h/db",
                "the URL's port is not a number",
            ),
        ];
        for (dsn, expected) in cases {
            let text = message(dsn);
            assert!(text.contains(expected), "{dsn}: {text}");
            assert!(
                !text.contains("hunter2") && !text.contains("ter2"),
                "{dsn}: {text}"
            );
        }
    }

    #[test]
    fn ipv6_hosts_and_port_lists_pass() {
        assert!(take_tls_options("postgres://u@[::1]:5432,h2:5433/db").is_ok());
        assert!(take_tls_options("postgres://u@[::1]/db").is_ok());
        assert!(take_tls_options("host=a,b port=5432,5433").is_ok());
    }
}

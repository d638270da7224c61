//! Inputs that once broke a target, or sit on an edge the targets must
//! hold: each is run on every `cargo test`. A fuzz failure prints its
//! minimized input; add it here with the target's name.

pub const INPUTS: &[(&str, &[u8])] = &[
    // An escape cut between two writes, then the end marker on its own line.
    ("copy_text", b"\x02\x03\x01ab\\\tc\n\\.\n"),
    // An octal escape split over the cut, and a row of no columns.
    ("copy_text", b"\x00\x02\x01\\0\x31\x32\n"),
    // `port= password=...`: libpq reads the password pair as the port's
    // value, and the bad-port message quoted it.
    ("dsn", b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x8d\x01\r\x01\x01\x00\x01"),
    // `user= password=...`: libpq takes the password pair as the user name,
    // shown in every message after.
    ("dsn", b"\x01\x01\x01b\x13\xe0_\xfc\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01qu\x01"),
    // A user holding '@' and a password holding '?', unencoded: the port
    // message quoted the password's first half.
    ("dsn", b"\x01\x01\x01\xf7j=\x08C\x01A\x01\x01\x01$\xff\xd0\xc1\xc0\xb4\x01\x01\x01\x01\x01\x01\x01\x01"),
    // A password holding '@' and '/', unencoded.
    ("dsn", b"\x01\x06\x00\x10\x00\x03\x00\x09\x00\x0c\x00\x01\x00\x02"),
];

//! Any bytes, read as an artifact: opening and fully checking must return
//! Ok or an error, never panic or hang. (The reader works on files, so the
//! bytes are written to one first.)

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use seedpack::artifact::ArtifactReader;

fuzz_target!(|data: &[u8]| {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(data).expect("write the input");
    if let Ok(reader) = ArtifactReader::open(file.path()) {
        let _ = reader.check_members(true);
    }
});

//! Where each member of an artifact sits in the file, for damage tests.

use std::path::Path;

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub header_offset: u64,
    pub data_offset: u64,
    pub size: u64,
}

pub fn members(path: &Path) -> Vec<Member> {
    let file = std::fs::File::open(path).expect("open artifact");
    let mut archive = tar::Archive::new(file);
    archive
        .entries()
        .expect("entries")
        .map(|e| {
            let e = e.expect("entry");
            Member {
                name: e.path().expect("path").to_string_lossy().into_owned(),
                header_offset: e.raw_header_position(),
                data_offset: e.raw_file_position(),
                size: e.size(),
            }
        })
        .collect()
}

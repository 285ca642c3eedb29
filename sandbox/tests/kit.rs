//! The guest kit as committed: every built module is the one `guest/build.sh` recorded in
//! `guest/SHA256SUMS` (the C toolchain is not needed to check that).

use std::path::{Path, PathBuf};

use sandbox::Sandbox;

fn guest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guest")
}

fn wasm_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        // The AssemblyScript kit has its own build and SHA256SUMS
        // (tests/assemblyscript.rs); npm's packages are not ours.
        if path.is_dir() && path.ends_with("assemblyscript") {
            continue;
        }
        if path.is_dir() {
            wasm_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wasm") {
            out.push(path);
        }
    }
}

/// `sha256sum` lines: hex, two spaces (or a space and `*` in binary mode), the path.
fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(guest().join("SHA256SUMS")).expect("SHA256SUMS");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (hash, path) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("not a sha256sum line: {line}"));
            let path = path.strip_prefix([' ', '*']).unwrap_or(path);
            (hash.to_owned(), path.to_owned())
        })
        .collect()
}

#[test]
fn every_committed_module_matches_the_sha256_build_sh_recorded() {
    let manifest = manifest();
    assert!(!manifest.is_empty());
    for (hash, path) in &manifest {
        let bytes = std::fs::read(guest().join(path))
            .unwrap_or_else(|e| panic!("{path} is in SHA256SUMS but cannot be read: {e}"));
        assert_eq!(
            &Sandbox::sha256_hex(&bytes),
            hash,
            "{path} changed since build.sh wrote SHA256SUMS: rebuild with guest/build.sh"
        );
    }

    let mut committed = Vec::new();
    wasm_files(&guest(), &mut committed);
    let mut committed: Vec<String> = committed
        .iter()
        .map(|p| {
            p.strip_prefix(guest())
                .expect("under guest/")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    committed.sort();
    let mut listed: Vec<String> = manifest.into_iter().map(|(_, path)| path).collect();
    listed.sort();
    assert_eq!(
        committed, listed,
        "every module under guest/ is built by build.sh and listed in SHA256SUMS"
    );
}

//! The guest header's C unit tests (`guest/tests/*.c`), compiled with the
//! machine's C compiler (`CC`, else `cc`) and run natively: the header's
//! JSON writer is plain C, so its behaviour is the same as in wasm32-wasi.

use std::path::Path;
use std::process::Command;

#[test]
fn the_guest_headers_json_writer_passes_its_c_unit_tests() {
    let guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest");
    let out_dir = tempfile::tempdir().unwrap();
    let exe = out_dir.path().join("json_writer_test");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let compiled = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        // gcc does not know clang's wasm import attributes on gov.query
        .arg("-Wno-attributes")
        .arg("-o")
        .arg(&exe)
        .arg(guest.join("tests/json_writer_test.c"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e}"));
    assert!(
        compiled.status.success(),
        "the C tests do not compile:\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let ran = Command::new(&exe).output().unwrap();
    assert!(
        ran.status.success(),
        "C unit tests failed:\n{}{}",
        String::from_utf8_lossy(&ran.stdout),
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(String::from_utf8_lossy(&ran.stdout).contains("all checks passed"));
}

//! Upload-time checks that need no compilation: size, structure, imports, `_start`, memory.
//!
//! These run before cranelift sees a byte, so a hostile upload is refused cheaply and every
//! reason is named for the ISV.

use serde::{Deserialize, Serialize};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

/// The import module every WASI preview 1 toolchain targets; all of it may be imported.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";
/// The platform's own import module (data access).
pub const GOV_MODULE: &str = "gov";
/// The functions the platform offers in [`GOV_MODULE`].
pub const GOV_FUNCTIONS: &[&str] = &["query"];

/// Defined functions a module may hold.
///
/// A C service app defines a few hundred functions, a Rust app with a JSON library a few
/// thousand, a Go app with its runtime and standard library ten to twenty thousand. Compile time
/// grows linearly with the count: measured with the release build on two cores, 0.9 s for ten
/// thousand trivial functions and 4.3 s (330 MB resident) for 49 999, once per upload, since the
/// artefact is cached. So 50 000 leaves room for every real toolchain while a module of 100 000
/// empty functions, a compile-time bomb rather than a service, is refused before cranelift sees
/// it. (An unoptimised debug build of cranelift is about twelve times slower; the tests allow
/// for that rather than lowering a production limit to suit them.)
pub const MAX_FUNCTIONS: u32 = 50_000;

/// Why an uploaded module is refused (the version becomes `rejected`). The `Display` text is
/// shown to the ISV as is, so it names every offending item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rejection {
    /// The module is larger than the order allows.
    #[error("module is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the upload.
        size: u64,
        /// The order's module size limit.
        limit: u64,
    },
    /// Not a WebAssembly module at all, or not a valid one.
    #[error("not a valid WebAssembly module: {reason}")]
    Malformed {
        /// The parser's or validator's message.
        reason: String,
    },
    /// A component, not a core module: the ABI v1 takes core modules (WASI preview 1).
    #[error("this is a WebAssembly component; the app ABI v1 takes a core module (wasm32-wasip1)")]
    Component,
    /// Imports outside `wasi_snapshot_preview1` and `gov`.
    #[error("forbidden imports (only {WASI_MODULE} and gov.query are allowed): {}", .imports.join(", "))]
    ForbiddenImports {
        /// Each offending import as `module.name`.
        imports: Vec<String>,
    },
    /// No `_start` function export: not a WASI command.
    #[error("no exported `_start` function: build the app as a WASI command (wasm32-wasip1)")]
    MissingStart,
    /// The module declares more initial linear memory than the order allows.
    #[error("module declares {declared} bytes of initial memory, over the limit of {limit} bytes")]
    MemoryTooLarge {
        /// Initial memory declared, in bytes.
        declared: u64,
        /// The order's memory limit.
        limit: u64,
    },
    /// A memory kind the platform does not run (64-bit, shared, several memories).
    #[error("unsupported memory: {reason}")]
    UnsupportedMemory {
        /// What is unsupported.
        reason: String,
    },
    /// More functions than [`MAX_FUNCTIONS`].
    #[error("module defines {count} functions, over the limit of {limit}")]
    TooManyFunctions {
        /// Functions defined.
        count: u32,
        /// [`MAX_FUNCTIONS`].
        limit: u32,
    },
    /// An allowed import with the wrong signature, or a WASI name that does not exist.
    #[error("imports cannot be linked: {reason}")]
    Link {
        /// wasmtime's message, naming the import.
        reason: String,
    },
}

/// What the structural pass learnt about a module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Functions defined by the module (not imported).
    pub functions: u32,
    /// Every import as `module.name`.
    pub imports: Vec<String>,
    /// Initial bytes of the module's memory (0 when it has none).
    pub initial_memory_bytes: u64,
}

const WASM_PAGE: u64 = 64 * 1024;

/// Parser and compiler messages sometimes span lines; the ISV sees one line.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parse `wasm` without compiling it and apply the ABI's structural rules.
pub(crate) fn inspect(wasm: &[u8], memory_limit: u64) -> Result<Shape, Rejection> {
    let malformed = |e: wasmparser::BinaryReaderError| Rejection::Malformed {
        reason: one_line(&e.to_string()),
    };
    if !wasm.starts_with(b"\0asm") {
        return Err(Rejection::Malformed {
            reason: "not a WebAssembly binary (no \\0asm header)".into(),
        });
    }
    let mut shape = Shape::default();
    let mut forbidden = Vec::new();
    let mut memories = Vec::new();
    let mut has_start = false;
    let mut imported_functions = 0u32;
    let mut function_indices_of_start = None;

    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(malformed)? {
            Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => return Err(Rejection::Component),
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(malformed)?;
                    let name = format!("{}.{}", import.module, import.name);
                    let allowed = match import.module {
                        WASI_MODULE => true,
                        GOV_MODULE => GOV_FUNCTIONS.contains(&import.name),
                        _ => false,
                    };
                    if !allowed {
                        forbidden.push(name.clone());
                    }
                    match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => imported_functions += 1,
                        TypeRef::Memory(m) => memories.push(m),
                        _ => {}
                    }
                    shape.imports.push(name);
                }
            }
            Payload::FunctionSection(reader) => {
                shape.functions = reader.count();
                if shape.functions > MAX_FUNCTIONS {
                    return Err(Rejection::TooManyFunctions {
                        count: shape.functions,
                        limit: MAX_FUNCTIONS,
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    memories.push(memory.map_err(malformed)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(malformed)?;
                    if export.name == "_start"
                        && matches!(export.kind, ExternalKind::Func | ExternalKind::FuncExact)
                    {
                        has_start = true;
                        function_indices_of_start = Some(export.index);
                    }
                }
            }
            _ => {}
        }
    }

    // Imports are reported first: they are the most common reason, and the ISV wants the
    // whole list in one go rather than one rejection per upload.
    if !forbidden.is_empty() {
        return Err(Rejection::ForbiddenImports { imports: forbidden });
    }
    if !has_start {
        return Err(Rejection::MissingStart);
    }
    // An exported `_start` that is an imported function would run host code as the app.
    if function_indices_of_start.is_some_and(|i| i < imported_functions) {
        return Err(Rejection::MissingStart);
    }
    if memories.len() > 1 {
        return Err(Rejection::UnsupportedMemory {
            reason: format!("{} memories declared; the ABI has one", memories.len()),
        });
    }
    if let Some(memory) = memories.first() {
        if memory.memory64 {
            return Err(Rejection::UnsupportedMemory {
                reason: "64-bit memory (memory64)".into(),
            });
        }
        if memory.shared {
            return Err(Rejection::UnsupportedMemory {
                reason: "shared memory (threads)".into(),
            });
        }
        let declared = memory.initial.saturating_mul(WASM_PAGE);
        if declared > memory_limit {
            return Err(Rejection::MemoryTooLarge {
                declared,
                limit: memory_limit,
            });
        }
        shape.initial_memory_bytes = declared;
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("test WAT parses")
    }

    #[test]
    fn every_forbidden_import_is_named_in_the_rejection() {
        let module = wat(r#"(module
            (import "env" "socket" (func))
            (import "gov" "exfiltrate" (func))
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
            (func (export "_start")))"#);
        let err = inspect(&module, 1 << 20).expect_err("rejected");
        assert_eq!(
            err,
            Rejection::ForbiddenImports {
                imports: vec!["env.socket".into(), "gov.exfiltrate".into()]
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("env.socket") && text.contains("gov.exfiltrate"),
            "{text}"
        );
    }

    #[test]
    fn a_module_without_start_is_not_a_command() {
        let module = wat(r#"(module (func (export "main")))"#);
        assert_eq!(inspect(&module, 1 << 20), Err(Rejection::MissingStart));
    }

    #[test]
    fn initial_memory_over_the_limit_is_rejected_before_compiling() {
        let module = wat(r#"(module (memory 100) (func (export "_start")))"#);
        let err = inspect(&module, 64 * WASM_PAGE).expect_err("rejected");
        assert_eq!(
            err,
            Rejection::MemoryTooLarge {
                declared: 100 * WASM_PAGE,
                limit: 64 * WASM_PAGE
            }
        );
    }

    #[test]
    fn random_bytes_are_malformed_not_a_panic() {
        let err = inspect(b"\0asm\x01\0\0\0\x05\xff\xff\xff", 1 << 20).expect_err("rejected");
        assert!(matches!(err, Rejection::Malformed { .. }), "{err}");
        let err = inspect(b"MZ\x90\0 not wasm at all", 1 << 20).expect_err("rejected");
        assert!(matches!(err, Rejection::Malformed { .. }), "{err}");
    }
}

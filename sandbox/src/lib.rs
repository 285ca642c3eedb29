//! The wasmtime runtime: the app ABI host side, limits and verdicts.

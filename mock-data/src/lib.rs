//! Deterministic generator of the demo services mock datasets and test suites.

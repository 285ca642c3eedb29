#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod access;
pub mod datasets;
pub mod host;
pub mod limits;
mod random;
mod runtime;
pub mod suite;
pub mod validate;

pub use access::{ABI_VERSION, Access, DatasetGrant, GrantError, pseudonym, suite_pseudonym};
pub use datasets::{DatasetError, DatasetProvider, MemoryDatasets};
pub use domain::Verdict;
pub use host::{QueryRecord, QueryStatus};
pub use limits::{Limits, ResolvedLimits};
pub use runtime::{
    ModuleInfo, ModuleRef, RunContext, RunOutcome, RunRequest, Sandbox, SandboxConfig,
    SandboxError, cached_module_path,
};
pub use suite::{
    CaseProgress, CaseResult, Contract, ContractError, ContractSchemas, EvalOptions, Expect,
    SuiteDir, SuiteError, TestCase, TestReport, Totals, Visibility, evaluate_suite,
};
pub use validate::Rejection;

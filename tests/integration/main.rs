//! The one integration test binary. Each module covers one area and runs the real `mlops`
//! binary; the real tools the tests need (MLflow, DVC, moto, gitlab-ci-local, pre-commit) are
//! installed and started by `scripts/test.sh`, and found through [`harness`].

mod harness;

mod checked_values;
mod child;
mod compile;
mod drift;
mod dvc;
mod e2e;
mod faults;
mod gitlab;
mod gitlab_runtime;
mod graph;
mod images;
mod init;
mod install;
mod limits;
mod lint;
mod no_panic;
mod precommit;
mod promote;
mod report_page;
mod roundtrip;
mod runtime;
mod validate;
mod wheel;

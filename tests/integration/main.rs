//! The one integration test binary. Each module covers one area and runs the real `mlops`
//! binary; the real tools the tests need (MLflow, DVC, moto, gitlab-ci-local, pre-commit) are
//! installed and started by `scripts/test.sh`, and found through [`harness`].

mod harness;

mod compile;
mod roundtrip;
mod images;
mod install;
mod wheel;
mod validate;
mod child;
mod graph;
mod init;
mod lint;
mod precommit;
mod fault_proxy;
mod gitlab_fake;
mod runtime;
mod drift;
mod e2e;
mod dvc;

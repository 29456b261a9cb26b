//! GitLab's limits and fixed names, as its pipeline creation enforces them (GitLab's CI/CD YAML
//! reference, `doc/ci/yaml/_index.md` in `gitlab-org/gitlab`). `docs/pipeline.md` says what
//! `mlops` does with each.

/// The most `needs` entries a job may have.
pub const MAX_NEEDS: usize = 50;
/// The longest job or stage name, in characters.
pub const MAX_NAME: usize = 255;
/// The most paths or globs one `rules:changes` may list.
pub const MAX_CHANGES: usize = 50;
/// The highest `retry:max`.
pub const MAX_RETRY: u8 = 2;
/// Top-level keys that are not jobs.
pub const RESERVED: [&str; 12] = [
    "stages",
    "variables",
    "default",
    "workflow",
    "include",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "spec",
    "pages:deploy",
];
/// The stages GitLab assumes when `stages:` is absent.
pub const DEFAULT_STAGES: [&str; 5] = [".pre", "build", "test", "deploy", ".post"];

//! GitLab's limits and fixed names, as its pipeline creation enforces them (GitLab's CI/CD YAML
//! reference, `doc/ci/yaml/_index.md` in `gitlab-org/gitlab`). `docs/pipeline.md` says what
//! `mlops` does with each.

/// The most `needs` entries a job may have.
pub const MAX_NEEDS: usize = 50;
/// The longest job or stage name, in characters.
pub const MAX_NAME: usize = 255;
/// The most paths or globs one `rules:changes` may list.
pub const MAX_CHANGES: usize = 50;
/// Longest `artifacts:expose_as` (`lib/gitlab/ci/config/entry/artifacts.rb`).
pub const MAX_EXPOSE_AS: usize = 100;
/// Exposing jobs a merge request shows (`MAX_EXPOSED_ARTIFACTS` in
/// `app/services/ci/find_exposed_artifacts_service.rb`).
pub const MAX_EXPOSED_JOBS: usize = 10;
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
/// The largest parsed size GitLab accepts by default: the application setting
/// `max_yaml_size_bytes` (`db/structure.sql`), measured as [`super::deep_size`] does.
pub const MAX_YAML_SIZE: u64 = 2 * 1024 * 1024;
/// The fixed limit of older releases (`MAX_YAML_SIZE = 1.megabyte` in
/// `lib/gitlab/config/loader/yaml.rb` @ 0ac5cc4e), and what many instances still set.
pub const OLD_MAX_YAML_SIZE: u64 = 1024 * 1024;
/// The deepest nesting GitLab accepts (`max_yaml_depth`; `MAX_YAML_DEPTH = 100` in the same
/// file).
pub const MAX_YAML_DEPTH: usize = 100;
/// Deployment jobs (jobs that start an `environment`) per pipeline: the plan limit
/// `ci_pipeline_deployments`, 500 by default (`doc/administration/instance_limits.md`).
pub const MAX_DEPLOYMENTS: usize = 500;

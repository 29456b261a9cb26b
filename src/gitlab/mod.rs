//! What `mlops` knows about GitLab CI, shared by the compiler and `mlops lint`: the keywords
//! ([`ir`]), GitLab's limits ([`limits`]), the vendored JSON Schema ([`schema`]), the rules
//! GitLab applies when it creates a pipeline ([`semantics`]), the `rules:changes` glob
//! engine ([`glob`]), the `expose_as` rules ([`expose`]), the limits on a whole file ([`capacity`]), how big GitLab measures a parsed file ([`deep_size`]) and the
//! durations it accepts ([`duration`]).
//!
//! Contract: everything here is pure and depends on nothing else in the crate but the YAML
//! reader ([`crate::yaml`]). A check takes a
//! CI document as JSON and returns every [`Violation`] it finds, each with a [`Code`] that
//! callers select by; it never prints and never stops at the first one.

pub mod capacity;
pub mod deep_size;
pub mod duration;
pub mod expose;
pub mod glob;
pub mod ir;
pub mod limits;
pub mod schema;
pub mod semantics;
pub mod violation;

pub use schema::check_schema;
pub use semantics::{check_semantics, jobs, needs_of};
pub use violation::{Code, Severity, Violation};

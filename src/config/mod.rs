//! `mlops.toml`: the types ([`model`]), reading with spans ([`load`]), schema checks
//! ([`validate`]) and defaults merged into resolved models ([`resolve`]).
//!
//! Contract: [`load_project`] either returns a fully resolved [`Project`] or a
//! [`ConfigError`] holding *every* problem found, each with a span in the source.

pub mod diagnostic;
pub mod load;
pub mod model;
pub mod reference;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod suggest;
pub mod validate;

pub use diagnostic::{ConfigError, Problem};
pub use resolve::{Model, Project};
pub use source::Source;

/// Parses, validates and resolves a config text.
pub fn load_project(source: &Source) -> Result<Project, ConfigError> {
    let doc = load::parse(source).map_err(|p| ConfigError::new(source, p))?;
    let config = validate::typed(&doc).map_err(|p| ConfigError::new(source, p))?;
    resolve::resolve(&doc, config).map_err(|p| ConfigError::new(source, p))
}

//! `mlops.toml`, from the file to the resolved [`Project`]:
//!
//! - [`read`]: the file → a [`Source`];
//! - [`load`]: TOML → a JSON document with the span of every value;
//! - [`schema_check`]: the document against the JSON Schema generated from the raw types of
//!   [`raw`] (each error worded by [`explain`]), then deserialized into them;
//! - [`resolve`]: `[defaults]` merged in and the rules a schema cannot express, giving the
//!   types of [`resolved`].
//!
//! Contract: [`load_project`] either returns a fully resolved [`Project`] or a
//! [`ConfigError`] holding *every* problem found, each with a span in the source. Nothing
//! here prints: errors are returned for the CLI to render.

pub mod diagnostic;
pub mod explain;
pub mod load;
pub mod pointer;
pub mod raw;
pub mod read;
pub mod reference;
pub mod resolve;
pub mod resolved;
pub mod schema;
pub mod schema_check;
pub mod source;
pub mod suggest;
pub mod values;

pub use diagnostic::{ConfigError, Problem};
pub use read::{ReadError, display_path, read_source};
pub use resolved::{Model, Project};
pub use source::Source;

/// Parses, checks and resolves a config text.
pub fn load_project(source: &Source) -> Result<Project, ConfigError> {
    let doc = load::parse(source).map_err(|p| ConfigError::new(source, p))?;
    let config = schema_check::raw_config(&doc).map_err(|p| ConfigError::new(source, p))?;
    resolve::resolve(&doc, config).map_err(|p| ConfigError::new(source, p))
}

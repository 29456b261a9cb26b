//! Free-text templates (minijinja, strict undefined), embedded in the binary: the file
//! banner, shell bodies, the Python bootstrap and the report page (`report.html`, HTML
//! autoescaped). They never hold YAML structure.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("banner.txt", include_str!("../templates/banner.txt.j2")),
    ("mlops.toml", include_str!("../templates/mlops.toml.j2")),
    ("bootstrap.py", include_str!("../templates/bootstrap.py.j2")),
    // `.html`: minijinja escapes every value for HTML unless it is marked safe.
    ("report.html", include_str!("../templates/report.html.j2")),
];

fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .build()?,
    );
    for (n, src) in TEMPLATES {
        env.add_template(n, src)?;
    }
    Ok(env)
}

/// Renders an embedded template. Templates and their contexts are ours, so a failure is a
/// bug, reported as such by the caller.
pub fn render(name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    environment()?.get_template(name)?.render(ctx)
}

/// Renders a template text that a module embeds itself (for example the Python bootstrap).
pub fn render_str(source: &str, ctx: Value) -> Result<String, minijinja::Error> {
    environment()?.render_str(source, ctx)
}

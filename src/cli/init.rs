//! `mlops init`: scaffolds a commented `mlops.toml` (from `templates/mlops.toml.j2`), compiles
//! the first `.gitlab-ci.yml` from it, and with `--pre-commit` adds the `mlops-compile` hook
//! to `.pre-commit-config.yaml`. An existing file is never overwritten without `--force`;
//! an existing pre-commit config is edited as text (appended to), so its comments and other
//! repos stay as they are.

use std::path::{Path, PathBuf};

use clap::Args;

use super::report;
use crate::compile::{CompileOptions, LowerOptions, compile};
use crate::config::Source;
use crate::config::display_path;
use crate::config::raw::Framework;
use crate::config::suggest::did_you_mean;
use crate::exit::Exit;

/// The repository that ships the hooks (`.pre-commit-hooks.yaml`).
pub const HOOK_REPO: &str = "https://gitlab.com/mlops-rs/mlops";
/// The hook `--pre-commit` adds.
pub const HOOK_ID: &str = "mlops-compile";

/// Arguments of `mlops init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The model name (the registered model and the `[model.<name>]` table).
    #[arg(long, default_value = "model")]
    pub model: String,
    /// The ML framework: sklearn, pytorch, tensorflow or boosting.
    #[arg(long, default_value = "sklearn")]
    pub framework: String,
    /// Also add the `mlops-compile` hook to `.pre-commit-config.yaml` (created or appended to).
    #[arg(long)]
    pub pre_commit: bool,
    /// Overwrite an existing `mlops.toml` and `.gitlab-ci.yml`.
    #[arg(long)]
    pub force: bool,
    /// The directory to scaffold in.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_owned()
    } else {
        toml_string(s)
    }
}

/// The scaffolded `mlops.toml` text.
pub fn render_config(model: &str, framework: Framework) -> Result<String, minijinja::Error> {
    crate::templates::render(
        "mlops.toml",
        minijinja::context! {
            schema_url => crate::SCHEMA_URL,
            version => crate::VERSION,
            model_key => toml_key(model),
            framework => toml_string(framework.as_str()),
        },
    )
}

/// The `.pre-commit-config.yaml` entry, indented by `indent` spaces.
fn hook_entry(indent: usize) -> String {
    let pad = " ".repeat(indent);
    format!(
        "{pad}- repo: {HOOK_REPO}\n{pad}  rev: v{}\n{pad}  hooks:\n{pad}    - id: {HOOK_ID}\n",
        crate::VERSION
    )
}

/// Why a pre-commit config cannot be edited safely.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct HookEditError(String);

/// Adds the hook to a pre-commit config text. `Ok(None)` when it is already there. Only
/// inserts lines: everything else in the file is kept byte for byte.
pub fn add_hook(existing: &str) -> Result<Option<String>, HookEditError> {
    let parsed = crate::yaml::parse(existing)
        .map_err(|e| HookEditError(format!("it is not valid YAML ({e})")))?;
    if parsed
        .to_json()
        .to_string()
        .contains(&format!("\"id\":\"{HOOK_ID}\""))
    {
        return Ok(None);
    }
    let mut text = existing.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("repos:")) else {
        if !matches!(
            parsed.value,
            crate::yaml::Value::Null | crate::yaml::Value::Map(_)
        ) {
            return Err(HookEditError("its top level is not a mapping".to_owned()));
        }
        return Ok(Some(format!("{text}repos:\n{}", hook_entry(2))));
    };
    let after_key = lines[start]["repos:".len()..].trim();
    let after_key = after_key.split(" #").next().unwrap_or_default().trim();
    if after_key == "[]" {
        let mut out: String = lines[..start].concat();
        out.push_str("repos:\n");
        out.push_str(&hook_entry(2));
        out.push_str(&lines[start + 1..].concat());
        return Ok(Some(out));
    }
    if !after_key.is_empty() {
        return Err(HookEditError(
            "its `repos:` is written in flow style".to_owned(),
        ));
    }
    // The block ends at the next top-level key; items may sit at column 0 (`- repo:`).
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let c = l.chars().next().unwrap_or(' ');
            !c.is_whitespace() && c != '-' && c != '#'
        })
        .map_or(lines.len(), |i| start + 1 + i);
    // Trailing blank and comment lines belong to what follows, not to `repos:`.
    let mut insert = end;
    while insert > start + 1 {
        let l = lines[insert - 1].trim();
        if l.is_empty() || (l.starts_with('#') && !lines[insert - 1].starts_with(' ')) {
            insert -= 1;
        } else {
            break;
        }
    }
    let indent = lines[start + 1..end]
        .iter()
        .find(|l| l.trim_start().starts_with('-'))
        .map_or(2, |l| l.len() - l.trim_start().len());
    let mut out: String = lines[..insert].concat();
    out.push_str(&hook_entry(indent));
    out.push_str(&lines[insert..].concat());
    Ok(Some(out))
}

fn parse_framework(name: &str) -> Result<Framework, Exit> {
    if let Some(f) = Framework::ALL.iter().find(|f| f.as_str() == name) {
        return Ok(*f);
    }
    let names: Vec<&str> = Framework::ALL.iter().map(|f| f.as_str()).collect();
    let hint = match did_you_mean(name, names.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {}", names.join(", ")),
    };
    report::error(&format!("unknown framework `{name}`"), Some(&hint));
    Err(Exit::Error)
}

/// Runs `mlops init`.
pub fn run(args: &InitArgs) -> Exit {
    match scaffold(args) {
        Ok(()) => Exit::Success,
        Err(e) => e,
    }
}

fn scaffold(args: &InitArgs) -> Result<(), Exit> {
    let framework = parse_framework(&args.framework)?;
    let config_path = args.dir.join("mlops.toml");
    let ci_path = args.dir.join(".gitlab-ci.yml");
    let existing: Vec<String> = [&config_path, &ci_path]
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", display_path(p)))
        .collect();
    if !existing.is_empty() && !args.force {
        report::error(
            &format!(
                "{} already exist{}; not overwriting",
                existing.join(" and "),
                if existing.len() == 1 { "s" } else { "" }
            ),
            Some("pass `--force` to replace it, or edit the existing `mlops.toml`"),
        );
        return Err(Exit::Error);
    }
    let text = render_config(&args.model, framework).map_err(|e| {
        report::error(
            &format!("internal error: the `mlops.toml` template failed: {e}"),
            None,
        );
        Exit::Error
    })?;
    let source = Source::new("mlops.toml".to_owned(), text.clone());
    let project = super::compile::resolve_source(&source)?;
    let compiled = compile(
        &project,
        &CompileOptions {
            lower: LowerOptions::default(),
        },
    )
    .map_err(|e| {
        eprint!("{}", report::render(&e));
        Exit::Error
    })?;
    // Edit the hook config before writing anything, so a refusal leaves no half-scaffold.
    let hook = if args.pre_commit {
        Some(pre_commit_edit(&args.dir)?)
    } else {
        None
    };
    write(&config_path, &text)?;
    write(&ci_path, &compiled.text)?;
    if let Some((path, new_text)) = hook {
        if let Some(t) = new_text {
            write(&path, &t)?;
        } else {
            eprintln!("`{}` already runs `{HOOK_ID}`", display_path(&path));
        }
    }
    // `.gitlab-ci.yml` was just compiled: only an edit of `mlops.toml` calls for a recompile.
    eprintln!(
        "next: put your training script at `train.py` and your data at `data/train.csv` (or edit `mlops.toml` and run `mlops compile` again)"
    );
    Ok(())
}

type HookEdit = (PathBuf, Option<String>);

fn pre_commit_edit(dir: &Path) -> Result<HookEdit, Exit> {
    let path = dir.join(".pre-commit-config.yaml");
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            report::error(&format!("cannot read `{}`: {e}", display_path(&path)), None);
            return Err(Exit::Error);
        }
    };
    match add_hook(&existing) {
        Ok(t) => Ok((path, t)),
        Err(e) => {
            report::error(
                &format!("cannot add the hook to `{}`: {e}", display_path(&path)),
                Some(&format!(
                    "add it by hand under `repos:`:\n{}",
                    hook_entry(2)
                )),
            );
            Err(Exit::Error)
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), Exit> {
    let existed = path.exists();
    crate::atomic::write(path, text).map_err(|e| {
        report::error(&format!("cannot write `{}`: {e}", display_path(path)), None);
        Exit::Error
    })?;
    eprintln!(
        "{} `{}`",
        if existed { "updated" } else { "created" },
        display_path(path)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_project;

    #[test]
    fn scaffold_loads() {
        for f in Framework::ALL {
            let text = render_config("my-model_2", f).expect("renders");
            assert!(text.starts_with(&format!("#:schema {}\n", crate::SCHEMA_URL)));
            assert!(text.contains(&format!("mlops-version = \"{}\"", crate::VERSION)));
            let p = load_project(&Source::new("mlops.toml", text)).expect("loads");
            assert_eq!(p.models[0].name, "my-model_2");
            assert_eq!(p.models[0].framework, f);
        }
        // A name the config refuses is quoted into valid TOML, then refused with a span.
        let text = render_config("my model", Framework::ALL[0]).expect("renders");
        assert!(load_project(&Source::new("mlops.toml", text)).is_err());
    }

    #[test]
    fn hook_into_empty_and_missing_repos() {
        let out = add_hook("").expect("ok").expect("changed");
        assert!(out.starts_with("repos:\n  - repo: "), "{out}");
        let out = add_hook("# top\ndefault_stages: [pre-commit]\n")
            .expect("ok")
            .expect("changed");
        assert!(
            out.starts_with("# top\ndefault_stages: [pre-commit]\nrepos:\n"),
            "{out}"
        );
        let out = add_hook("repos: []  # none yet\n")
            .expect("ok")
            .expect("changed");
        assert!(out.starts_with("repos:\n  - repo: "), "{out}");
    }

    #[test]
    fn hook_appends_inside_the_repos_block() {
        let before = "# keep me\nrepos:\n- repo: https://github.com/pre-commit/pre-commit-hooks\n  rev: v5.0.0\n  hooks:\n  - id: trailing-whitespace  # ws\n\n# footer comment\nci:\n  autofix: false\n";
        let out = add_hook(before).expect("ok").expect("changed");
        assert!(
            out.contains(
                "  - id: trailing-whitespace  # ws\n- repo: https://gitlab.com/mlops-rs/mlops\n"
            ),
            "{out}"
        );
        assert!(
            out.ends_with("\n# footer comment\nci:\n  autofix: false\n"),
            "{out}"
        );
        let json = crate::yaml::parse(&out).expect("still YAML").to_json();
        assert_eq!(json["repos"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["ci"]["autofix"], serde_json::json!(false));
        assert_eq!(add_hook(&out), Ok(None));
    }

    #[test]
    fn flow_repos_is_refused() {
        assert!(add_hook("repos: [{repo: local, hooks: []}]\n").is_err());
    }
}

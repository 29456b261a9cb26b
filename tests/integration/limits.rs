//! GitLab's limits on the files the compiler writes, checked against real parts: the parsed
//! size estimate against Ruby's own `ObjectSpace.memsize_of` of Psych's parse (what
//! `Gitlab::Utils::DeepSize` adds up), and large configs compiled in child-pipeline mode to
//! shards that each pass GitLab's schema, its semantic rules and every limit.

use std::path::Path;
use std::process::Command;

use crate::harness;

/// `Gitlab::Utils::DeepSize` in Ruby: the same walk over a Psych-loaded document.
const DEEP_SIZE_RB: &str = r#"
require "yaml"; require "objspace"
def deep(o)
  s = ObjectSpace.memsize_of(o)
  if o.is_a?(Array) then o.each { |x| s += deep(x) }
  elsif o.is_a?(Hash) then o.each { |k, v| s += deep(k) + deep(v) } end
  s
end
print deep(YAML.safe_load(File.read(ARGV[0]), permitted_classes: [Symbol], permitted_symbols: [], aliases: true))
"#;

/// A config of `n` models shaped like `benches/compile.sh`'s.
pub fn many_models(dir: &Path, n: usize, extra: &str) {
    let mut t = format!(
        "mlops-version = \"{}\"\n{extra}\n[defaults]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.85\nrequirements_file = \"requirements.txt\"\n",
        env!("CARGO_PKG_VERSION")
    );
    for i in 1..=n {
        t.push_str(&format!(
            "\n[model.model-{i:04}]\ntraining_args = \"--data data/m{i}/train.csv --test-data data/m{i}/test.csv\"\ndata_path = \"data/m{i}/train.csv\"\nchanges = [\"data/m{i}/**\", \"scripts/train.py\"]\n"
        ));
    }
    std::fs::write(dir.join("mlops.toml"), t).expect("write mlops.toml");
}

fn compile(dir: &Path, args: &[&str]) -> std::process::Output {
    harness::mlops()
        .current_dir(dir)
        .arg("compile")
        .args(args)
        .output()
        .expect("mlops runs")
}

#[test]
fn parsed_size_estimate_is_rubys() {
    let Some(ruby) = harness::require_tool("ruby") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let script = tmp.path().join("deep_size.rb");
    std::fs::write(&script, DEEP_SIZE_RB).expect("script");
    for n in [1, 37, 120] {
        let dir = tmp.path().join(format!("n{n}"));
        std::fs::create_dir_all(&dir).expect("dir");
        many_models(&dir, n, "");
        let o = compile(&dir, &["--stdout"]);
        let text = String::from_utf8(o.stdout).expect("utf-8");
        let file = dir.join("out.yml");
        std::fs::write(&file, &text).expect("write");
        let out = Command::new(&ruby).arg(&script).arg(&file).output().expect("ruby runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ruby_says: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("a number");
        let doc = mlops::yaml::parse(&text).expect("our reader");
        let ours = mlops::gitlab::deep_size::deep_size(&doc, mlops::gitlab::deep_size::Ruby::V3_1);
        // The Ruby here is Debian's; its sizes are Ruby 3.1's unless a newer one is installed.
        let version = Command::new(&ruby).arg("-e").arg("print RUBY_VERSION").output().expect("ruby");
        let version = String::from_utf8_lossy(&version.stdout).into_owned();
        if version.starts_with("3.1") {
            assert_eq!(ours.bytes, ruby_says, "{n} models, Ruby {version}");
        }
        let upper = mlops::gitlab::deep_size::measure(&doc);
        assert!(upper.bytes >= ruby_says, "{n} models: {} < Ruby {version}'s {ruby_says}", upper.bytes);
    }
}

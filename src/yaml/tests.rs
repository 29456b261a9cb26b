use std::fmt::Write as _;

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn j(text: &str) -> serde_json::Value {
    parse(text).expect("parses").to_json()
}

#[test]
fn gitlab_traps_resolve_like_psych() {
    let doc = j(
        "variables:\n  A: on\n  B: 'on'\n  C: 0755\n  D: 3.10\n  E: \"3.10\"\n  F: y\n  G: ~\n  H:\n  I: 1e3\n",
    );
    assert_eq!(
        doc,
        json!({"variables": {"A": true, "B": "on", "C": 493, "D": 3.1, "E": "3.10",
                "F": "y", "G": null, "H": null, "I": "1e3"}})
    );
}

#[test]
fn keys_resolve_too() {
    // Psych turns the key `on` into `true`: a classic GitHub-Actions-in-YAML-1.1 surprise.
    assert_eq!(j("on: push\n1: one\n"), json!({"true": "push", "1": "one"}));
}

#[test]
fn positions_are_one_based() {
    let n = parse("a:\n  b: [1, 2]\n  c:\n    - x\n").expect("parses");
    assert_eq!(n.locate(""), Some((1, 1)));
    assert_eq!(n.locate("/a"), Some((1, 1)));
    assert_eq!(n.locate("/a/b"), Some((2, 3)));
    assert_eq!(n.locate("/a/b/1"), Some((2, 10)));
    assert_eq!(n.locate("/a/c/0"), Some((4, 7)));
    assert_eq!(n.locate("/a/nope"), None);
    assert_eq!(n.locate_nearest("/a/nope/deeper"), (1, 1));
}

#[test]
fn pointer_escapes() {
    let n = parse("\"a/b\":\n  \"c~d\": 1\n").expect("parses");
    assert_eq!(n.locate("/a~1b/c~0d"), Some((2, 3)));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "\
.base: &base
  image: python:3.11
  tags: [cpu]
job:
  <<: *base
  tags: [gpu]
  script: [echo]
other:
  <<: [*base, {image: x, retry: 1}]
";
    let doc = j(text);
    assert_eq!(
        doc["job"],
        json!({"image": "python:3.11", "tags": ["gpu"], "script": ["echo"]})
    );
    assert_eq!(
        doc["other"],
        json!({"image": "python:3.11", "retry": 1, "tags": ["cpu"]})
    );
    // A merged key points where it was written.
    let n = parse(text).expect("parses");
    assert_eq!(n.locate("/job/image"), Some((2, 3)));
    assert_eq!(n.locate("/job/tags"), Some((6, 3)));
}

#[test]
fn quoted_merge_key_is_a_plain_key() {
    assert_eq!(
        j("a: &a {x: 1}\nb:\n  '<<': *a\n")["b"],
        json!({"<<": {"x": 1}})
    );
}

#[test]
fn reference_tags_become_their_content() {
    let doc = j(
        ".setup:\n  script: [pip install x]\njob:\n  script:\n    - !reference [.setup, script]\n    - echo\n",
    );
    assert_eq!(doc["job"]["script"], json!([[".setup", "script"], "echo"]));
}

#[test]
fn core_tags() {
    assert_eq!(
        j("a: !!str 0755\nb: !!int 12\nc: !custom on\n"),
        json!({"a": "0755", "b": 12, "c": "on"})
    );
}

#[test]
fn errors_have_positions() {
    let e = parse("a: [1, 2\nb: 3\n").expect_err("unclosed flow sequence");
    assert!(e.line >= 1 && e.col >= 1, "{e}");
    let e = parse("a: 1\n---\nb: 2\n").expect_err("two documents");
    assert_eq!((e.line, e.col), (2, 1));
    let e = parse("a: *nope\n").expect_err("unknown alias");
    assert_eq!(e.line, 1);
}

#[test]
fn empty_is_null() {
    assert_eq!(parse("").expect("parses").value, Value::Null);
    assert_eq!(
        parse("# only a comment\n").expect("parses").value,
        Value::Null
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        let _ = writeln!(text, "a{i}: &a{i} [{refs}]");
    }
    let e = parse(&text).expect_err("too big");
    assert!(e.message.contains("nodes"), "{e}");
}

#[test]
fn deep_nesting_is_refused() {
    let text = "[".repeat(10_000);
    assert!(parse(&text).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text gives a tree or an error; never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(n) = parse(&text) {
            let _ = n.to_json();
            let _ = n.locate("/a/0");
        }
    }

    /// Text built from YAML's own punctuation reaches the deeper corners of the parser.
    #[test]
    fn yamlish_text_never_panics(text in "[-:?&*!|>'\"%@`#{}\\[\\],<. a-z0-9\n~]{0,80}") {
        if let Ok(n) = parse(&text) {
            let _ = n.to_json();
        }
    }
}

//! `artifacts:reports:annotations`: links shown on the job page.

use indexmap::IndexMap;
use serde::Serialize;

/// One external link.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// What the link shows.
    pub label: String,
    /// Where it goes.
    pub url: String,
}

#[derive(Serialize)]
struct Entry<'a> {
    external_link: &'a Link,
}

/// Renders `{"<section>": [{"external_link": {label, url}}, ...]}`.
pub fn render(section: &str, links: &[Link]) -> String {
    let mut map: IndexMap<&str, Vec<Entry<'_>>> = IndexMap::new();
    map.insert(
        section,
        links.iter().map(|l| Entry { external_link: l }).collect(),
    );
    let mut s = serde_json::to_string_pretty(&map).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}

//! Any bytes as `mlops.toml`: loading and compiling must return an error or a pipeline that
//! passed GitLab's checks, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlops::compile::{CompileOptions, compile};
use mlops::config::{Source, load_project};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(project) = load_project(&Source::new("mlops.toml", text)) {
        // An internal error here is a compiler bug: make the fuzzer report it.
        compile(&project, &CompileOptions::default()).expect("a valid config compiles");
    }
});

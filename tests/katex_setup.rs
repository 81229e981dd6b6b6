//! `cargo doc` and docs.rs render the math of the doc comments with KaTeX: `.cargo/config.toml`
//! passes `--html-in-header docs/katex-header.html` to every rustdoc run, and each crate's
//! `[package.metadata.docs.rs]` passes the same flag on docs.rs. rustdoc resolves the path from
//! the directory it runs in (a crate's own root for its doctests), so each crate also needs a
//! `docs/katex-header.html`. A new crate that forgets either renders raw `$$` (or fails its
//! doctests); this test names the crate and the missing piece.

use std::fs;
use std::path::Path;

const FLAG: &str = r#"rustdoc-args = ["--html-in-header", "docs/katex-header.html"]"#;

/// The `members = [...]` list of the workspace's `Cargo.toml`.
fn workspace_members(root: &Path) -> Vec<String> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("the workspace Cargo.toml has a `members = [...]` line");
    let list = &line[line.find('[').unwrap() + 1..line.rfind(']').unwrap()];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn every_crate_renders_math_with_katex() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = fs::read_to_string(root.join("docs/katex-header.html")).unwrap();
    assert!(
        header.contains("katex"),
        "docs/katex-header.html does not load KaTeX"
    );
    let config = fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains(r#"rustdocflags = ["--html-in-header", "docs/katex-header.html"]"#),
        ".cargo/config.toml must pass the KaTeX header to rustdoc"
    );
    let members = workspace_members(root);
    assert!(members.len() >= 5, "workspace members: {members:?}");
    let mut problems = Vec::new();
    for crate_dir in std::iter::once(".".to_string()).chain(members) {
        let dir = root.join(&crate_dir);
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        if !manifest.contains("[package.metadata.docs.rs]") || !manifest.contains(FLAG) {
            problems.push(format!(
                "{crate_dir}/Cargo.toml: expected [package.metadata.docs.rs] with {FLAG}"
            ));
        }
        match fs::read_to_string(dir.join("docs/katex-header.html")) {
            Ok(text) if text == header => {}
            Ok(_) => problems.push(format!(
                "{crate_dir}/docs/katex-header.html differs from docs/katex-header.html \
                 (expected a link to it)"
            )),
            Err(e) => problems.push(format!("{crate_dir}/docs/katex-header.html: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "KaTeX set-up:\n{}",
        problems.join("\n")
    );
}

/// The `## Key equations` section of a module header (`//!` lines), up to the next `## `.
fn key_equations(source: &str) -> Option<String> {
    let header: Vec<&str> = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = header
        .iter()
        .position(|l| l.starts_with("## Key equations"))?;
    let section = header[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("## "))
        .copied()
        .collect::<Vec<_>>();
    Some(section.join("\n"))
}

/// An algorithm file's header is read next to the lecture notes: its key equations are display
/// math (`$$ … $$`, rendered by KaTeX, still legible as plain LaTeX), not a `text` block.
#[test]
fn every_algorithm_header_states_its_key_equations_in_latex() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rl/src/algorithms");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("mod.rs"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "only {} algorithm files", files.len());
    let mut problems = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        match key_equations(&fs::read_to_string(file).unwrap()) {
            None => problems.push(format!("{name}: no `//! ## Key equations` section")),
            Some(section) if !section.contains("$$") => problems.push(format!(
                "{name}: `## Key equations` has no `$$ … $$` display math"
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let sample = "//! # X\n//! ## Key equations\n//! $$ a = b $$\n//! ## Pseudocode\n";
    assert_eq!(key_equations(sample).as_deref(), Some("$$ a = b $$"));
    assert_eq!(
        key_equations("//! # X\n//! ## Key equations\n//! ```text\n"),
        Some("```text".into())
    );
}

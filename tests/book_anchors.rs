//! The book (`book/`, built with `mdbook build book`) includes the code it explains from the
//! source files by anchor: `{{#include ../../rl/src/advantage.rs:gae}}` shows the lines between
//! `// ANCHOR: gae` and `// ANCHOR_END: gae`. mdBook itself only warns when an anchor is missing
//! and then shows nothing, so this test is what keeps the book from drifting away from the code:
//! every include must name a file that exists and, if it names an anchor, an anchor that opens
//! and closes in that file around at least one line of code. Chapters listed in `SUMMARY.md` and
//! images must exist too. And the display math of the book and of every doc comment must
//! survive Markdown (no block marker or hard line break inside `$$ … $$`, no `\{`), which
//! rustdoc and mdBook apply before KaTeX sees it. It needs neither mdBook nor a browser.

use std::fs;
use std::path::{Path, PathBuf};

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book")
}

/// Every Markdown file under `dir`, recursively, in a stable order.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(markdown_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

/// One `{{#include …}}` or `{{#rustdoc_include …}}` directive: the file's path as written and
/// what follows its first `:` (an anchor name or a line range), if anything.
#[derive(Debug)]
struct Include {
    line: usize,
    path: String,
    selector: Option<String>,
}

/// The include directives of a Markdown text, skipping escaped ones (`\{{#include …}}`), which
/// mdBook prints literally.
fn includes(text: &str) -> Vec<Include> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(start) = rest.find("{{#") {
            let absolute = offset + start;
            let after = &rest[start + 3..];
            let end = after.find("}}").unwrap_or(after.len());
            let directive = after[..end].trim();
            let escaped = absolute > 0 && line.as_bytes()[absolute - 1] == b'\\';
            let argument = directive
                .strip_prefix("include ")
                .or_else(|| directive.strip_prefix("rustdoc_include "));
            if let (false, Some(argument)) = (escaped, argument) {
                let argument = argument.trim();
                let (path, selector) = match argument.split_once(':') {
                    Some((path, selector)) => (path, Some(selector.to_string())),
                    None => (argument, None),
                };
                found.push(Include {
                    line: number + 1,
                    path: path.to_string(),
                    selector,
                });
            }
            offset = absolute + 3 + end;
            rest = &line[offset.min(line.len())..];
        }
    }
    found
}

/// Whether `selector` is a line range (`10`, `2:10`, `:10`, `2:`) rather than an anchor name.
fn is_line_range(selector: &str) -> bool {
    selector.chars().all(|c| c.is_ascii_digit() || c == ':')
}

/// The lines strictly between `ANCHOR: name` and `ANCHOR_END: name`, or why there are none.
fn anchored_lines<'a>(source: &'a str, name: &str) -> Result<Vec<&'a str>, String> {
    let marks = |line: &str, keyword: &str| {
        line.split_once(keyword)
            .is_some_and(|(_, rest)| rest.split_whitespace().next() == Some(name))
    };
    let lines: Vec<&str> = source.lines().collect();
    let start = lines
        .iter()
        .position(|l| marks(l, "ANCHOR:"))
        .ok_or_else(|| format!("no `// ANCHOR: {name}` line"))?;
    let end = lines[start..]
        .iter()
        .position(|l| marks(l, "ANCHOR_END:"))
        .map(|k| start + k)
        .ok_or_else(|| format!("`ANCHOR: {name}` is never closed by `// ANCHOR_END: {name}`"))?;
    let body: Vec<&str> = lines[start + 1..end]
        .iter()
        .copied()
        .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
        .collect();
    if body.iter().all(|l| l.trim().is_empty()) {
        return Err(format!("anchor `{name}` encloses no code"));
    }
    Ok(body)
}

/// Every problem with the includes of the book in `book`, one message each.
fn include_problems(book: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in markdown_files(&book.join("src")) {
        let text = fs::read_to_string(&chapter).unwrap();
        let shown = chapter.strip_prefix(book).unwrap_or(&chapter).display();
        for include in includes(&text) {
            let target = chapter.parent().unwrap().join(&include.path);
            let source = match fs::read_to_string(&target) {
                Ok(source) => source,
                Err(e) => {
                    problems.push(format!(
                        "{shown}:{}: includes {}, which cannot be read ({e})",
                        include.line, include.path
                    ));
                    continue;
                }
            };
            match &include.selector {
                Some(name) if !is_line_range(name) => {
                    if let Err(why) = anchored_lines(&source, name) {
                        problems.push(format!(
                            "{shown}:{}: {}:{name}: {why}",
                            include.line, include.path
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    problems
}

#[test]
fn every_included_anchor_exists_and_encloses_code() {
    let book = book_dir();
    let count: usize = markdown_files(&book.join("src"))
        .iter()
        .map(|f| includes(&fs::read_to_string(f).unwrap()).len())
        .sum();
    assert!(
        count >= 20,
        "the book includes only {count} code regions; has book/src moved?"
    );
    let problems = include_problems(&book);
    assert!(
        problems.is_empty(),
        "the book includes code that is not there:\n{}",
        problems.join("\n")
    );
}

/// The targets of the links `[text](target)` on a line; with `images_only`, of `![alt](target)`.
fn link_targets(line: &str, images_only: bool) -> Vec<&str> {
    let mut targets = Vec::new();
    let opener = if images_only { "![" } else { "[" };
    let mut rest = line;
    while let Some(open) = rest.find(opener) {
        let after = &rest[open..];
        let Some(middle) = after.find("](") else {
            break;
        };
        let target = &after[middle + 2..];
        let close = target.find(')').unwrap_or(target.len());
        targets.push(&target[..close]);
        rest = &target[close..];
    }
    targets
}

#[test]
fn every_chapter_in_the_summary_and_every_image_exists() {
    let src = book_dir().join("src");
    let mut problems = Vec::new();
    let mut chapters = 0;
    for file in markdown_files(&src) {
        let is_summary = file.ends_with("SUMMARY.md");
        for line in fs::read_to_string(&file).unwrap().lines() {
            for target in link_targets(line, !is_summary) {
                if target.contains("://") || target.starts_with('#') {
                    continue;
                }
                chapters += usize::from(is_summary);
                if !file.parent().unwrap().join(target).is_file() {
                    problems.push(format!(
                        "{}: links to {target}, which does not exist",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(chapters >= 8, "SUMMARY.md lists only {chapters} chapters");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        link_targets("see ![a](x.svg) and [b](y.md)", true),
        vec!["x.svg"]
    );
}

#[test]
fn a_missing_or_unclosed_anchor_is_reported() {
    let source = "fn a() {}\n// ANCHOR: open\nfn b() {}\n// ANCHOR: empty\n// ANCHOR_END: empty\n";
    assert!(
        anchored_lines(source, "absent")
            .unwrap_err()
            .contains("no `// ANCHOR: absent`")
    );
    assert!(
        anchored_lines(source, "open")
            .unwrap_err()
            .contains("never closed")
    );
    assert!(
        anchored_lines(source, "empty")
            .unwrap_err()
            .contains("no code")
    );
    let closed = "// ANCHOR: gae\nlet x = 1;\n// ANCHOR_END: gae\n";
    assert_eq!(anchored_lines(closed, "gae").unwrap(), vec!["let x = 1;"]);
    // A name that only starts like another is not that anchor.
    assert!(anchored_lines("// ANCHOR: gae_loop\nx\n// ANCHOR_END: gae_loop\n", "gae").is_err());
}

#[test]
fn directives_are_parsed_and_escaped_ones_skipped() {
    let text = "a {{#include ../x.rs:name}} b {{#include ../y.rs}}\n\\{{#include ../z.rs:no}}\n\
                {{#rustdoc_include ../w.rs:2:10}}";
    let found = includes(text);
    let shown: Vec<(usize, &str, Option<&str>)> = found
        .iter()
        .map(|i| (i.line, i.path.as_str(), i.selector.as_deref()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (1, "../x.rs", Some("name")),
            (1, "../y.rs", None),
            (3, "../w.rs", Some("2:10")),
        ]
    );
    assert!(is_line_range("2:10") && !is_line_range("name"));
}

/// Two ways Markdown breaks a display formula before KaTeX sees it, which a test can find
/// without a renderer (`book/check-rendering.sh` finds the rest): a continuation line of a
/// `$$ … $$` block that starts with a block marker (`+ `, `- `, `* `, `> `, `#`, `1. `) becomes a
/// list, quote or heading; and `\{`, `\}` are Markdown escapes, so KaTeX gets a bare group
/// (write `\lbrace`, `\rbrace`). Returns `line: problem` for each.
fn display_math_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut in_code, mut in_math) = (false, false);
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let starts_inside = in_math;
        // Code spans (`…`) are text, not math: drop them before looking for `$$`.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut math_text = String::new();
        for (k, piece) in prose.split("$$").enumerate() {
            if k > 0 {
                in_math = !in_math;
            }
            if in_math {
                math_text.push_str(piece);
            }
        }
        if starts_inside {
            let head = line.trim_start();
            let digits = head.chars().take_while(char::is_ascii_digit).count();
            let numbered = digits > 0
                && (head[digits..].starts_with(". ") || head[digits..].starts_with(") "));
            if ["+ ", "- ", "* ", "> ", "#"]
                .iter()
                .any(|m| head.starts_with(m))
                || numbered
            {
                problems.push(format!(
                    "line {}: a line inside $$ … $$ starts with a Markdown block marker: {head}",
                    i + 1
                ));
            }
        }
        let trimmed = line.trim_end();
        if in_math && trimmed.ends_with('\\') && !trimmed.ends_with("\\\\") {
            problems.push(format!(
                "line {}: a line inside $$ … $$ ends with `\\`, a Markdown hard line break",
                i + 1
            ));
        }
        if (starts_inside || prose.contains("$$"))
            && (math_text.contains("\\{") || math_text.contains("\\}"))
        {
            problems.push(format!(
                "line {}: \\{{ or \\}} inside $$ … $$ is a Markdown escape; write \\lbrace, \\rbrace",
                i + 1
            ));
        }
    }
    problems
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The Markdown of a source file's doc comments (`//!`, `///`), line for line: other lines
/// are left empty, so line numbers match the file.
fn doc_markdown(source: &str) -> String {
    source
        .lines()
        .map(|line| {
            let line = line.trim_start();
            let doc = line
                .strip_prefix("//!")
                .or_else(|| line.strip_prefix("///"));
            doc.map_or("", |d| d.strip_prefix(' ').unwrap_or(d))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn display_math_is_not_cut_up_by_markdown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for file in markdown_files(&book_dir().join("src")) {
        for problem in display_math_problems(&fs::read_to_string(&file).unwrap()) {
            problems.push(format!("{}: {problem}", file.display()));
        }
    }
    // rustdoc reads the doc comments with the same Markdown rules before KaTeX sees them.
    let mut sources = 0;
    for crate_dir in [
        "src",
        "autograd/src",
        "nn/src",
        "rl/src",
        "control/src",
        "dynamics/src",
    ] {
        for file in rust_files(&root.join(crate_dir)) {
            sources += 1;
            let text = doc_markdown(&fs::read_to_string(&file).unwrap());
            for problem in display_math_problems(&text) {
                problems.push(format!("{}: {problem}", file.display()));
            }
        }
    }
    assert!(sources > 100, "only {sources} source files found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let broken = "$$ a = b\n   + c $$\n$$ \\{ x \\} $$\n```\n$$\n+ code\n```\n";
    let found = display_math_problems(broken);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("line 2:") && found[1].starts_with("line 3:"),
        "{found:?}"
    );
    assert!(display_math_problems("$$ a = b +\n   c $$\n").is_empty());
    assert!(display_math_problems("text `$$` code\n# heading\n").is_empty());
    assert_eq!(display_math_problems("$$ a , \\\n b $$\n").len(), 1);
    assert!(display_math_problems("$$ a \\\\\n b $$\n").is_empty());
    let doc = doc_markdown("//! $$ a\nfn f() {}\n    /// + b $$\n");
    assert_eq!(doc, "$$ a\n\n+ b $$");
}

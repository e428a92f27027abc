//! The layers' rules, read from the source: which layer may import which, no import cycles between the
//! files of one layer (a module and its own children excepted), the sandbox apart from the client, and
//! handlers a screen long. Paths are read from `use` lines and from `crate::…` paths written inline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers in order: each may import only those before it. Modules not listed are shared helpers.
const LAYERS: &[&[&str]] =
    &[&["domain"], &["bitrix"], &["store"], &["portal", "editor"], &["web"], &["startup", "cli", "demo"]];

/// The longest a handler may be, in lines.
const HANDLER_LINES: usize = 50;

struct Source {
    /// `web/lists/review` for `src/web/lists/review.rs`, `web/lists` for `src/web/lists/mod.rs`.
    module: String,
    text: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module = rel.to_string_lossy().replace('\\', "/");
            if let Some(parent) = module.strip_suffix("/mod") {
                module = parent.to_owned();
            }
            Source { module, text: std::fs::read_to_string(&path).unwrap() }
        })
        .collect()
}

/// The code without comments and string literals, so that words in them are not taken for paths.
fn code_only(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or_default();
        let mut in_string = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            } else if !in_string {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// Every path a `use` statement names, braces expanded: `a::{b, c::d}` gives `a::b` and `a::c::d`.
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = join(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&base, &inner[start..], out);
    } else if !tree.is_empty() {
        out.push(join(prefix, tree.split(" as ").next().unwrap_or_default().trim()));
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}::{b}"),
    }
}

/// The paths a file names, each as module segments from the crate root.
fn imports(src: &Source) -> Vec<Vec<String>> {
    let code = code_only(&src.text);
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            expand("", &after[..end], &mut paths);
        }
        rest = &after[end..];
    }
    for root in ["crate::", "super::"] {
        let mut rest = code.as_str();
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().last();
            if before.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != ':') {
                let tail: String =
                    rest[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                paths.push(tail);
            }
            rest = &rest[at + root.len()..];
        }
    }
    let own: Vec<&str> = src.module.split('/').collect();
    paths
        .into_iter()
        .filter_map(|p| {
            let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Vec<String>;
            let mut segs = segs.as_slice();
            match segs.first() {
                Some(&"crate") => {
                    base = vec![];
                    segs = &segs[1..];
                }
                Some(&"super") => {
                    base = own.iter().map(|s| s.to_string()).collect();
                    while segs.first() == Some(&"super") {
                        base.pop();
                        segs = &segs[1..];
                    }
                }
                Some(&"self") => {
                    base = own.iter().map(|s| s.to_string()).collect();
                    segs = &segs[1..];
                }
                _ => return None,
            }
            base.extend(segs.iter().map(|s| s.to_string()));
            Some(base)
        })
        .collect()
}

/// The file a path lands in: the longest prefix of it that is a module of the crate.
fn resolve(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().map(|n| path[..n].join("/")).find(|m| modules.contains(m))
}

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split('/').next().unwrap_or_default();
    LAYERS.iter().position(|l| l.contains(&top))
}

fn top(module: &str) -> &str {
    module.split('/').next().unwrap_or_default()
}

/// Each file's imports of other files of the crate.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let srcs = sources();
    let modules: BTreeSet<String> = srcs.iter().map(|s| s.module.clone()).collect();
    srcs.iter()
        .map(|s| {
            let deps = imports(s)
                .iter()
                .filter_map(|p| resolve(p, &modules))
                .filter(|m| *m != s.module)
                .collect::<BTreeSet<_>>();
            (s.module.clone(), deps)
        })
        .collect()
}

#[test]
fn each_layer_imports_only_the_layers_before_it() {
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        let Some(mine) = layer_of(&module) else { continue };
        for dep in deps {
            if let Some(theirs) = layer_of(&dep)
                && theirs > mine
            {
                wrong.push(format!("{module} imports {dep}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers' order:\n{}", wrong.join("\n"));
}

#[test]
fn no_web_file_imports_startup_and_no_store_file_imports_settings() {
    for (module, deps) in graph() {
        if top(&module) == "web" {
            assert!(!deps.iter().any(|d| top(d) == "startup"), "{module} imports startup");
        }
        if top(&module) == "store" {
            assert!(!deps.iter().any(|d| top(d) == "settings"), "{module} imports settings");
        }
    }
}

#[test]
fn the_sandbox_and_the_client_never_import_each_other() {
    for (module, deps) in graph() {
        let sandbox = top(&module) == "sandbox";
        for dep in deps {
            if sandbox {
                assert_eq!(top(&dep), "sandbox", "the sandbox file {module} imports {dep}");
            } else if top(&dep) == "sandbox" {
                assert!(["cli", "demo", "lib"].contains(&top(&module)), "{module} imports the sandbox");
            }
        }
    }
}

/// True when one module is the other's ancestor (a module may import its children, and they it).
fn related(a: &str, b: &str) -> bool {
    a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
}

#[test]
fn no_import_cycles_between_files_of_one_layer() {
    let g = graph();
    let mut cycles = Vec::new();
    for (start, deps) in &g {
        // A path back to `start` through files of its own top-level module, skipping related pairs.
        for first in deps.iter().filter(|d| top(d) == top(start) && !related(start, d)) {
            let mut seen = BTreeSet::new();
            let mut stack = vec![(first.clone(), vec![start.clone(), first.clone()])];
            while let Some((at, trail)) = stack.pop() {
                if !seen.insert(at.clone()) {
                    continue;
                }
                for next in g.get(&at).into_iter().flatten() {
                    if top(next) != top(start) || related(&at, next) {
                        continue;
                    }
                    let mut t = trail.clone();
                    t.push(next.clone());
                    if next == start {
                        cycles.push(t.join(" → "));
                    } else {
                        stack.push((next.clone(), t));
                    }
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn handlers_are_a_screen_long() {
    let mut long = Vec::new();
    for src in sources().iter().filter(|s| top(&s.module) == "web") {
        let lines: Vec<&str> = src.text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let is_fn = line.trim_start().starts_with("pub async fn") || line.trim_start().starts_with("async fn");
            if !is_fn {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let signature: String = lines[i..].iter().take_while(|l| !l.ends_with('{')).copied().collect();
            let end = (i..lines.len())
                .find(|&j| j > i && lines[j].len() - lines[j].trim_start().len() == indent && lines[j].trim() == "}")
                .unwrap_or(i);
            // A handler is what a route calls: it takes the app's state from actix.
            let is_handler = signature.contains("web::Data<AppState>") || lines[i].contains("web::Data<AppState>");
            if is_handler && end - i + 1 > HANDLER_LINES {
                long.push(format!("{}:{} is {} lines", src.module, i + 1, end - i + 1));
            }
        }
    }
    assert!(long.is_empty(), "handlers longer than {HANDLER_LINES} lines:\n{}", long.join("\n"));
}

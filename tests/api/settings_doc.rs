//! The README's settings table and the code agree: every setting it lists is read by the code, and every
//! setting the code reads is listed.

use std::collections::BTreeSet;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn readme_settings(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(format!("{ROOT}/{file}")).unwrap();
    let table =
        text.split("## Settings").nth(1).or_else(|| text.split("## Настройки").nth(1)).expect("a settings section");
    table
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let first = l.split('|').nth(1).unwrap_or_default();
            first.split(',').map(|v| v.trim().trim_matches('`').to_owned()).collect::<Vec<_>>()
        })
        .filter(|v| v.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') && !v.is_empty())
        .collect()
}

/// Variables the code reads: clap `env = "…"` attributes and `env::var("…")` calls in src/, and `RUST_LOG`,
/// which the log filter reads through `EnvFilter::try_from_default_env`.
fn code_settings() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(format!("{ROOT}/src"))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["env = \"", "env::var(\"", "var_os(\""] {
                for part in text.split(marker).skip(1) {
                    let name: String = part.chars().take_while(|c| *c != '"').collect();
                    found.insert(name);
                }
            }
            if text.contains("try_from_default_env") {
                found.insert("RUST_LOG".into());
            }
        }
    }
    found
}

#[test]
fn every_setting_in_the_readme_is_read_by_the_code_and_the_other_way_round() {
    let documented = readme_settings("README.md");
    let read = code_settings();
    assert!(read.len() >= 10, "the scan found the settings: {read:?}");
    let undocumented: Vec<_> = read.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&read).collect();
    assert!(undocumented.is_empty(), "read by the code but missing from the README: {undocumented:?}");
    assert!(unknown.is_empty(), "in the README but read nowhere: {unknown:?}");
}

#[test]
fn the_russian_operator_guide_and_env_example_list_the_same_settings() {
    let readme = readme_settings("README.md");
    assert_eq!(readme_settings("docs/deploy.ru.md"), readme, "docs/deploy.ru.md");
    let example = std::fs::read_to_string(format!("{ROOT}/.env.example")).unwrap();
    for var in readme.iter().filter(|v| *v != "RUST_LOG") {
        assert!(example.contains(&format!("{var}=")), ".env.example lacks {var}");
    }
}

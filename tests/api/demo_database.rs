//! The demo says where the app keeps its data and the exact operator command that shows it, and that
//! command works while the demo runs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_b24-calllist");

/// Stops the demo however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

/// What the demo says on stderr, up to the line with the `portals list` command.
fn start_demo(dir: &std::path::Path) -> (Running, Vec<String>) {
    let mut child = Command::new(BIN)
        .arg("demo")
        .env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo starts");
    let stderr = child.stderr.take().unwrap();
    let demo = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut said = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = line.contains("portals list");
            said.push(line);
            if done {
                break;
            }
        }
        let _ = tx.send(said);
    });
    // Generous: a debug build on a busy machine.
    let said = rx.recv_timeout(Duration::from_secs(30)).expect("the demo said how to look inside its database");
    (demo, said)
}

#[test]
fn the_demo_prints_its_database_and_a_portals_list_command_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, said) = start_demo(dir.path());
    let text = said.join("\n");
    assert!(text.contains("The app's database: /"), "an absolute path:\n{text}");
    assert!(text.contains("removed when the demo stops"), "the temporary database says so:\n{text}");

    let command = said.last().unwrap().trim();
    let (assignment, rest) = command.split_once(' ').unwrap();
    assert_eq!(rest, "b24-calllist portals list", "the exact command:\n{text}");
    let url = assignment.strip_prefix("DATABASE_URL=").unwrap_or_else(|| panic!("DATABASE_URL=… first: {command}"));
    let path = url.strip_prefix("sqlite://").unwrap_or_else(|| panic!("a SQLite URL: {url}"));
    assert!(text.contains(&format!("The app's database: {path} ")), "the path printed is the command's:\n{text}");

    // The command as printed, from another folder, with nothing else set.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["portals", "list"])
        .env_clear()
        .env("DATABASE_URL", url)
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(listed.lines().filter(|l| l.contains(" active ")).count(), 1, "the demo's portal:\n{listed}");
    assert!(listed.contains("not checked (no APP_SECRET_KEY)"), "{listed}");
}

//! Python exceptions are made in one file, `src/py/error.rs`: this test reads every other
//! source file of the crate and fails on a token that creates or names a Python exception
//! there, so a wrapper cannot add a raise of its own beside the one mapping.
use std::fs;
use std::path::{Path, PathBuf};

const BOUNDARY: &str = "src/py/error.rs";

/// What creating or naming a Python exception looks like in pyo3 code.
const FORBIDDEN: [&str; 6] = ["new_err(", "PyErr::new", "PyErr::from_type", "pyo3::exceptions", "create_exception!", "import_exception!"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// (file, line number, line) of every forbidden token outside `boundary`, under `root/src`.
fn violations(root: &Path, boundary: &str) -> Vec<(String, usize, String)> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if rel == boundary {
            continue;
        }
        for (i, line) in fs::read_to_string(&path).unwrap().lines().enumerate() {
            if FORBIDDEN.iter().any(|t| line.contains(t)) {
                found.push((rel.clone(), i + 1, line.trim().to_string()));
            }
        }
    }
    found
}

#[test]
fn python_exceptions_are_made_only_in_error_rs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join(BOUNDARY).is_file(), "{BOUNDARY} is missing");
    let found = violations(root, BOUNDARY);
    assert!(found.is_empty(), "Python exceptions made outside {BOUNDARY} (add an ArgError case or a core-error mapping there): {found:#?}");
}

#[test]
fn the_check_sees_a_raise_outside_error_rs() {
    let root = std::env::temp_dir().join(format!("nexus-error-boundary-{}", std::process::id()));
    fs::create_dir_all(root.join("src/py")).unwrap();
    fs::write(root.join(BOUNDARY), "PyValueError::new_err(\"ok here\")\n").unwrap();
    fs::write(root.join("src/py/book.rs"), "fn f() {}\nfn g() -> PyErr { PyValueError::new_err(\"x\") }\n").unwrap();
    let found = violations(&root, BOUNDARY);
    fs::remove_dir_all(&root).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0.as_str(), found[0].1), ("src/py/book.rs", 2));
}

//! What kind of file a finding sits in, from its path alone: test code and fixtures, documentation, or
//! examples. Such findings are still reported (a real key in a test is still a real key); the class
//! lets a reader or a CI policy tell them apart.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathClass {
    Test,
    Docs,
    Example,
}

impl PathClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PathClass::Test => "test",
            PathClass::Docs => "docs",
            PathClass::Example => "example",
        }
    }
}

const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "testing",
    "testdata",
    "test-data",
    "test_data",
    "spec",
    "specs",
    "fixture",
    "fixtures",
    "__fixtures__",
    "mocks",
    "__mocks__",
    "t",
];
const EXAMPLE_DIRS: &[&str] = &[
    "example",
    "examples",
    "sample",
    "samples",
    "demo",
    "demos",
    "_examples",
];
const DOC_DIRS: &[&str] = &["doc", "docs", "documentation", "man", "wiki"];
const DOC_EXTENSIONS: &[&str] = &[".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".mdx"];

fn is_test_file(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    name.starts_with("test_")
        || name == "conftest.py"
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || stem.ends_with("Test")
        || stem.ends_with("Tests")
        || name.contains(".test.")
        || name.contains(".spec.")
}

fn is_example_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".example", ".sample", ".dist", ".template", ".tmpl"]
        .iter()
        .any(|s| lower.ends_with(s) || lower.contains(&format!("{s}.")))
        || lower.starts_with("example")
        || lower.starts_with("sample")
}

/// The class of `path` (`/` or `\\` separated), if any: test wins over example, example over docs.
pub fn classify(path: &str) -> Option<PathClass> {
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let (name, dirs) = parts.split_last()?;
    let dir_in = |set: &[&str]| {
        dirs.iter()
            .any(|d| set.iter().any(|s| d.eq_ignore_ascii_case(s)))
    };
    if dir_in(TEST_DIRS) || is_test_file(name) {
        Some(PathClass::Test)
    } else if dir_in(EXAMPLE_DIRS) || is_example_file(name) {
        Some(PathClass::Example)
    } else if dir_in(DOC_DIRS)
        || DOC_EXTENSIONS
            .iter()
            .any(|e| name.to_ascii_lowercase().ends_with(e))
    {
        Some(PathClass::Docs)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for (path, class) in [
            ("tests/it/main.rs", Some(PathClass::Test)),
            ("pkg/client_test.go", Some(PathClass::Test)),
            ("app/test_settings.py", Some(PathClass::Test)),
            ("src/Foo/Tests/BarTest.php", Some(PathClass::Test)),
            ("web/login.spec.ts", Some(PathClass::Test)),
            ("t/lib-gpg/keyring.gpg", Some(PathClass::Test)),
            ("spec/fixtures/key.pem", Some(PathClass::Test)),
            ("internal/testdata/token.txt", Some(PathClass::Test)),
            ("docs/setup.txt", Some(PathClass::Docs)),
            ("README.md", Some(PathClass::Docs)),
            ("examples/bot.py", Some(PathClass::Example)),
            (".env.example", Some(PathClass::Example)),
            ("config/app.sample.yml", Some(PathClass::Example)),
            ("docs/examples/x.md", Some(PathClass::Example)),
            ("src/main.rs", None),
            ("config/settings.yaml", None),
            ("contest/entry.py", None),
        ] {
            assert_eq!(classify(path), class, "{path}");
        }
    }
}

//! Paths as tools write them, made relative to the repository root with `/` separators.
//!
//! Tools write absolute paths (`/home/runner/work/r/r/src/a.ts`, or `/github/workspace/src/a.ts`
//! from inside a container action), `./src/a.ts`, paths relative to the directory they ran in (a
//! monorepo package: `src/a.ts` meaning `packages/web/src/a.ts`), `file://` URIs and Windows
//! separators. The diff, annotations, check runs and review comments all need the path relative to
//! the repository root (reviewdog #2105, #2151, #2481 are bugs in exactly this).

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

/// The workspace path container actions see.
const CONTAINER_WORKSPACE: &str = "/github/workspace";

/// Turns tool paths into repository-relative ones.
#[derive(Debug, Clone)]
pub struct PathNormalizer {
    /// The repository root, absolute, lexically clean.
    root: String,
    /// The same root with symlinks resolved, when it differs.
    canonical_root: Option<String>,
    /// The directory the tools ran in, relative to the root (`""` for the root itself).
    working: String,
}

impl PathNormalizer {
    /// `root` is the repository root; `working` the directory tools ran in (absolute, or relative
    /// to `root`).
    pub fn new(root: &Path, working: &Path) -> Self {
        let root_text = clean(&root.to_string_lossy().replace('\\', "/"));
        let canonical_root = std::fs::canonicalize(root)
            .ok()
            .map(|p| clean(&p.to_string_lossy().replace('\\', "/")))
            .filter(|c| *c != root_text);
        let working_text = working.to_string_lossy().replace('\\', "/");
        let working = if working_text.starts_with('/') {
            let absolute = clean(&working_text);
            strip_root(&absolute, &root_text)
                .or_else(|| canonical_root.as_deref().and_then(|c| strip_root(&absolute, c)))
                .or_else(|| {
                    std::fs::canonicalize(working).ok().and_then(|p| {
                        strip_root(
                            &clean(&p.to_string_lossy()),
                            canonical_root.as_deref().unwrap_or(&root_text),
                        )
                    })
                })
                .unwrap_or_default()
        } else {
            clean(&working_text)
        };
        Self {
            root: root_text,
            canonical_root,
            working: if working == "." { String::new() } else { working },
        }
    }

    /// The working directory relative to the root (`""` for the root).
    pub fn working(&self) -> &str {
        &self.working
    }

    /// A path a tool wrote, relative to the repository root. Paths outside the repository stay
    /// absolute (they match nothing in the diff).
    pub fn normalize(&self, raw: &str) -> String {
        self.normalize_cow(raw).into_owned()
    }

    /// [`PathNormalizer::normalize`] without a copy in the common case, a clean relative path from
    /// a tool run at the root (the filter asks this of every finding before it is built).
    pub fn normalize_cow<'r>(&self, raw: &'r str) -> Cow<'r, str> {
        if self.working.is_empty() && is_clean_relative(raw) {
            return Cow::Borrowed(raw);
        }
        Cow::Owned(self.normalize_slow(raw))
    }

    fn normalize_slow(&self, raw: &str) -> String {
        let mut text = raw.trim().replace('\\', "/");
        if text.starts_with("file:") {
            text = crate::parse::sarif::uri_to_path(&text);
        }
        if text.starts_with('/') {
            let absolute = clean(&text);
            if let Some(relative) = strip_root(&absolute, &self.root)
                .or_else(|| {
                    self.canonical_root
                        .as_deref()
                        .and_then(|c| strip_root(&absolute, c))
                })
                .or_else(|| strip_root(&absolute, CONTAINER_WORKSPACE))
            {
                return relative;
            }
            return absolute;
        }
        let joined = if self.working.is_empty() {
            text
        } else {
            format!("{}/{}", self.working, text)
        };
        clean(&joined)
    }

    /// A path already relative to the repository root (lint-gate's own outputs): only cleaned.
    pub fn normalize_root_relative(&self, raw: &str) -> String {
        let text = raw.trim().replace('\\', "/");
        if text.starts_with('/') {
            return self.normalize(&text);
        }
        clean(&text)
    }
}

/// `a/b.rs`: relative, no `.` or `..` segment, no `//`, no backslash, no scheme, no surrounding space.
fn is_clean_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.ends_with('/')
        && !path.contains(['\\', ':'])
        && path.trim() == path
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

fn strip_root(absolute: &str, root: &str) -> Option<String> {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        return Some(absolute.trim_start_matches('/').to_owned());
    }
    let rest = absolute.strip_prefix(root)?;
    if rest.is_empty() {
        return Some(String::new());
    }
    rest.strip_prefix('/').map(str::to_owned)
}

/// Removes `.` segments, folds `a/..`, collapses `//`; keeps a leading `/` and leading `..` that
/// cannot be folded.
fn clean(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::ParentDir => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            Component::Normal(part) => parts.push(part.to_str().unwrap_or_default()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// `dir` resolved against `base` when relative.
pub fn resolve(base: &Path, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        base.join(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let n = PathNormalizer::new(Path::new("/home/runner/work/r/r"), Path::new("packages/web"));
        for (raw, want) in [
            ("src/a.ts", "packages/web/src/a.ts"),
            ("./src/a.ts", "packages/web/src/a.ts"),
            ("../shared/x.ts", "packages/shared/x.ts"),
            (
                "/home/runner/work/r/r/packages/web/src/a.ts",
                "packages/web/src/a.ts",
            ),
            ("/home/runner/work/r/r/./lib//b.rs", "lib/b.rs"),
            ("/github/workspace/Dockerfile", "Dockerfile"),
            ("file:///home/runner/work/r/r/x%20y.py", "x y.py"),
            ("src\\win\\path.cs", "packages/web/src/win/path.cs"),
            ("/usr/lib/python3/x.py", "/usr/lib/python3/x.py"),
            ("/home/runner/work/r/rest/x", "/home/runner/work/r/rest/x"),
            ("../../../outside.txt", "../outside.txt"),
        ] {
            assert_eq!(n.normalize(raw), want, "{raw}");
        }
        assert_eq!(n.normalize_root_relative("src/a.ts"), "src/a.ts");
        let root = PathNormalizer::new(Path::new("/w"), Path::new("/w"));
        assert_eq!(root.working(), "");
        assert_eq!(root.normalize("./a.rs"), "a.rs");
        let abs = PathNormalizer::new(Path::new("/w/"), Path::new("/w/pkg/"));
        assert_eq!(abs.working(), "pkg");
    }
}

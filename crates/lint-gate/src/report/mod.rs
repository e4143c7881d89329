//! Reporters: workflow annotations, the step summary, a check run, review comments, a sticky
//! comment, and SARIF / JSON files. All render the same collected findings.

pub mod check;
pub mod comment;
pub mod files;
pub mod review;
pub mod summary;

use ops_core::ToolError;

/// Which reporters are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reporters {
    /// Workflow-command annotations.
    pub annotations: bool,
    /// The step summary.
    pub summary: bool,
    /// A check run.
    pub check: bool,
    /// Review comments on the pull request's lines.
    pub review: bool,
    /// One sticky pull-request comment.
    pub comment: bool,
}

impl Reporters {
    /// Parses the `reporters` input (comma or line separated). Empty means `annotations, summary`.
    pub fn parse(entries: &[String]) -> Result<Self, ToolError> {
        let mut out = Self::default();
        let names: Vec<String> = entries
            .iter()
            .flat_map(|e| e.split([',', ' ', '\n']))
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            out.annotations = true;
            out.summary = true;
            return Ok(out);
        }
        for name in names {
            match name.as_str() {
                "annotations" | "github-annotations" => out.annotations = true,
                "summary" | "step-summary" => out.summary = true,
                "check" | "check-run" | "github-check" => out.check = true,
                "review" | "pr-review" | "github-pr-review" => out.review = true,
                "comment" | "pr-comment" | "sticky-comment" => out.comment = true,
                "none" => {}
                other => {
                    return Err(ToolError::usage(format!(
                        "unknown reporter `{other}` in `reporters`: expected `annotations`, `summary`, `check`, `review`, `comment` or `none`"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Whether any reporter needs the GitHub API.
    pub fn needs_api(self) -> bool {
        self.check || self.review || self.comment
    }
}

/// The marker that identifies this step's review comments and sticky comment on re-runs.
pub fn marker(name: &str, kind: &str) -> String {
    // the name is user input: keep it from closing the HTML comment
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("<!-- lint-gate:{safe}:{kind} -->")
}

/// Cuts `text` to at most `max` characters at a line boundary, ending with `note` when cut.
pub fn cut_chars(text: &str, max: usize, note: &str) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(note.chars().count() + 1);
    let mut out = String::new();
    let mut used = 0;
    for line in text.split_inclusive('\n') {
        let n = line.chars().count();
        if used + n > budget {
            break;
        }
        out.push_str(line);
        used += n;
    }
    if out.is_empty() {
        out = text.chars().take(budget).collect();
        out.push('\n');
    }
    out.push_str(note);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporter_lists() {
        let r = Reporters::parse(&["check, review".to_owned(), "comment".to_owned()]).unwrap();
        assert_eq!(
            (r.annotations, r.summary, r.check, r.review, r.comment),
            (false, false, true, true, true)
        );
        let d = Reporters::parse(&[]).unwrap();
        assert!(d.annotations && d.summary && !d.needs_api());
        let err = Reporters::parse(&["slack".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("unknown reporter `slack`"), "{err}");
    }

    #[test]
    fn markers_and_cuts() {
        assert_eq!(
            marker("lint --> x", "sticky"),
            "<!-- lint-gate:lint_--__x:sticky -->"
        );
        assert_eq!(cut_chars("ab\ncd\nef\n", 100, "(cut)"), "ab\ncd\nef\n");
        let cut = cut_chars("ab\ncd\nef\n", 8, "(cut)");
        assert_eq!(cut, "ab\n(cut)");
        assert!(cut.chars().count() <= 8);
    }
}

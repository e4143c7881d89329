//! `flavor` lines: `latest=auto|true|false`, `prefix=…[,onlatest=true|false]`,
//! `suffix=…[,onlatest=true|false]`.

use super::lines::{self, Line};

/// `latest=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latest {
    /// Each tag type decides (semver, pep440, match and `ref,event=tag` add `latest`).
    Auto,
    /// Always add `latest`.
    Yes,
    /// Never add `latest`.
    No,
}

/// The flavor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flavor {
    /// `latest=`.
    pub latest: Latest,
    /// The global prefix (a template).
    pub prefix: String,
    /// Whether `latest` gets the prefix.
    pub prefix_latest: bool,
    /// The global suffix (a template).
    pub suffix: String,
    /// Whether `latest` gets the suffix.
    pub suffix_latest: bool,
}

impl Default for Flavor {
    fn default() -> Self {
        Self {
            latest: Latest::Auto,
            prefix: String::new(),
            prefix_latest: false,
            suffix: String::new(),
            suffix_latest: false,
        }
    }
}

/// What is wrong with a `flavor` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct FlavorError {
    /// The line.
    pub line: Line,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Parses the `flavor` lines; later lines override earlier ones.
pub fn parse(input: &[Line]) -> Result<Flavor, FlavorError> {
    let mut flavor = Flavor::default();
    for line in input {
        let fail = |message: String| FlavorError {
            line: line.clone(),
            message,
        };
        let fields = lines::fields(&line.text).map_err(|e| fail(e.to_string()))?;
        // `onlatest` applies to the `prefix` or `suffix` before it on the same line
        let mut onlatest_for = None;
        for field in fields {
            let Some(key) = field.key else {
                return Err(fail(format!(
                    "`{}` is not a `key=value` entry; expected `latest=`, `prefix=` or `suffix=`",
                    field.value
                )));
            };
            match key.as_str() {
                "latest" => {
                    flavor.latest = match field.value.as_str() {
                        "auto" => Latest::Auto,
                        "true" => Latest::Yes,
                        "false" => Latest::No,
                        other => {
                            return Err(fail(format!(
                                "invalid `latest` value `{other}`; expected `auto`, `true` or `false`"
                            )));
                        }
                    };
                }
                "prefix" => {
                    flavor.prefix = field.value;
                    onlatest_for = Some("prefix");
                }
                "suffix" => {
                    flavor.suffix = field.value;
                    onlatest_for = Some("suffix");
                }
                "onlatest" => {
                    let on = match field.value.as_str() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(fail(format!(
                                "invalid `onlatest` value `{other}`; expected `true` or `false`"
                            )));
                        }
                    };
                    match onlatest_for {
                        Some("prefix") => flavor.prefix_latest = on,
                        Some(_) => flavor.suffix_latest = on,
                        None => {
                            return Err(fail(
                                "`onlatest` applies to a `prefix=` or `suffix=` before it on the same line, and there is none"
                                    .to_owned(),
                            ));
                        }
                    }
                }
                other => {
                    return Err(fail(format!(
                        "unknown flavor key `{other}`; expected `latest`, `prefix`, `suffix` or `onlatest`"
                    )));
                }
            }
        }
    }
    Ok(flavor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<Line> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Line::new("flavor", i + 1, *t))
            .collect()
    }

    fn flavor(
        latest: Latest,
        prefix: &str,
        prefix_latest: bool,
        suffix: &str,
        suffix_latest: bool,
    ) -> Flavor {
        Flavor {
            latest,
            prefix: prefix.to_owned(),
            prefix_latest,
            suffix: suffix.to_owned(),
            suffix_latest,
        }
    }

    /// metadata-action's flavor table, plus `onlatest` for each side.
    #[test]
    fn flavor_table() {
        for (input, expected) in [
            (vec![], flavor(Latest::Auto, "", false, "", false)),
            (vec!["latest=auto"], flavor(Latest::Auto, "", false, "", false)),
            (vec!["latest=true"], flavor(Latest::Yes, "", false, "", false)),
            (vec!["latest=false"], flavor(Latest::No, "", false, "", false)),
            (
                vec!["prefix=sha-"],
                flavor(Latest::Auto, "sha-", false, "", false),
            ),
            (
                vec!["suffix=-alpine"],
                flavor(Latest::Auto, "", false, "-alpine", false),
            ),
            (
                vec!["latest=false", "prefix=dev-", "suffix=-alpine"],
                flavor(Latest::No, "dev-", false, "-alpine", false),
            ),
            (
                vec!["prefix=dev-,onlatest=true"],
                flavor(Latest::Auto, "dev-", true, "", false),
            ),
            (
                vec!["suffix=-alpine,onlatest=true"],
                flavor(Latest::Auto, "", false, "-alpine", true),
            ),
            (
                vec!["prefix=dev-,onlatest=true", "suffix=-alpine,onlatest=false"],
                flavor(Latest::Auto, "dev-", true, "-alpine", false),
            ),
            (
                vec!["prefix={{branch}}-"],
                flavor(Latest::Auto, "{{branch}}-", false, "", false),
            ),
        ] {
            assert_eq!(parse(&lines(&input)).unwrap(), expected, "{input:?}");
        }
    }

    #[test]
    fn bad_lines_name_the_line() {
        for (input, message) in [
            (
                "latest=maybe",
                "invalid `latest` value `maybe`; expected `auto`, `true` or `false`",
            ),
            (
                "nolatest",
                "`nolatest` is not a `key=value` entry; expected `latest=`, `prefix=` or `suffix=`",
            ),
            (
                "tag=foo",
                "unknown flavor key `tag`; expected `latest`, `prefix`, `suffix` or `onlatest`",
            ),
            (
                "prefix=a,onlatest=yes",
                "invalid `onlatest` value `yes`; expected `true` or `false`",
            ),
            (
                "onlatest=true",
                "`onlatest` applies to a `prefix=` or `suffix=` before it on the same line, and there is none",
            ),
        ] {
            let err = parse(&lines(&["latest=auto", input])).unwrap_err();
            assert_eq!(err.to_string(), format!("`flavor` line 2 (`{input}`): {message}"));
        }
    }
}

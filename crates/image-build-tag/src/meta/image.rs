//! `images` lines: `name/app`, or `name=name/app,enable=true|false`; the legacy single line `a,b` means
//! two images. Names are lowercased and checked against the image reference grammar.

use super::lines::{self, Line};
use super::sanitize;

/// One image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The repository name, lowercased.
    pub name: String,
    /// `enable=`.
    pub enable: bool,
}

/// What is wrong with an `images` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct ImageError {
    /// The line.
    pub line: Line,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Parses the `images` lines.
pub fn parse(input: &[Line]) -> Result<Vec<Image>, ImageError> {
    let mut images = Vec::new();
    for line in input {
        let fail = |message: String| ImageError {
            line: line.clone(),
            message,
        };
        let fields = lines::fields(&line.text).map_err(|e| fail(e.to_string()))?;
        // the old format: a single line of comma-separated names
        if input.len() == 1 && fields.iter().all(|f| f.key.is_none()) {
            for field in fields {
                let name = sanitize::image_name(&field.value).map_err(|e| fail(e.to_string()))?;
                images.push(Image { name, enable: true });
            }
            return Ok(images);
        }
        let mut name = String::new();
        let mut enable = true;
        for field in fields {
            match field.key.as_deref() {
                None | Some("name") => name = field.value,
                Some("enable") => {
                    enable = match field.value.as_str() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(fail(format!(
                                "invalid `enable` value `{other}`; expected `true` or `false`"
                            )));
                        }
                    };
                }
                Some(other) => {
                    return Err(fail(format!(
                        "unknown image attribute `{other}`; expected `name` or `enable`"
                    )));
                }
            }
        }
        if name.is_empty() {
            return Err(fail(
                "the image name is empty; expected `name=<image>` or a bare name".to_owned(),
            ));
        }
        let name = sanitize::image_name(&name).map_err(|e| fail(e.to_string()))?;
        images.push(Image { name, enable });
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<Line> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Line::new("images", i + 1, *t))
            .collect()
    }

    fn shown(images: &[Image]) -> Vec<String> {
        images
            .iter()
            .map(|i| format!("{}:{}", i.name, i.enable))
            .collect()
    }

    /// metadata-action's image table.
    #[test]
    fn image_table() {
        for (input, expected) in [
            (vec!["name/app"], vec!["name/app:true"]),
            (
                vec!["name/app", "ghcr.io/name/app"],
                vec!["name/app:true", "ghcr.io/name/app:true"],
            ),
            (
                vec!["name/app,ghcr.io/name/app"],
                vec!["name/app:true", "ghcr.io/name/app:true"],
            ),
            (vec!["name=name/app"], vec!["name/app:true"]),
            (vec!["name=name/app,enable=false"], vec!["name/app:false"]),
            (
                vec!["name=name/app,enable=true", "name=ghcr.io/name/app,enable=false"],
                vec!["name/app:true", "ghcr.io/name/app:false"],
            ),
            (vec!["ghcr.io/MyUSER/MyApp"], vec!["ghcr.io/myuser/myapp:true"]),
            (
                vec!["name/app", "name=ghcr.io/name/app"],
                vec!["name/app:true", "ghcr.io/name/app:true"],
            ),
        ] {
            assert_eq!(shown(&parse(&lines(&input)).unwrap()), expected, "{input:?}");
        }
    }

    #[test]
    fn bad_lines_name_the_line() {
        for (input, message) in [
            (
                "name=a/b,enable=yes",
                "invalid `enable` value `yes`; expected `true` or `false`",
            ),
            (
                "name=a/b,foo=bar",
                "unknown image attribute `foo`; expected `name` or `enable`",
            ),
            (
                "name=,enable=true",
                "the image name is empty; expected `name=<image>` or a bare name",
            ),
            (
                "name=a/b:1.0",
                "`a/b:1.0` has a tag or digest; `images` takes repository names only (tags come from `tags`)",
            ),
        ] {
            let err = parse(&lines(&["ok/app", input])).unwrap_err();
            assert_eq!(err.to_string(), format!("`images` line 2 (`{input}`): {message}"));
        }
    }
}

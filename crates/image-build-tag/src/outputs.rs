//! The metadata outputs, shaped exactly as docker/metadata-action shapes them: joined lists, the `json`
//! object, and the bake definition files (JSON with two-space indentation, keys in insertion order).

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::meta::Meta;

/// The annotation levels buildx understands (`DOCKER_METADATA_ANNOTATIONS_LEVELS`).
const LEVELS: [&str; 4] = ["manifest", "index", "manifest-descriptor", "index-descriptor"];

/// Reads `DOCKER_METADATA_ANNOTATIONS_LEVELS` (default `manifest`): comma separated levels, each
/// optionally scoped to platforms (`manifest[linux/amd64]`).
pub fn annotation_levels(value: Option<&str>) -> Result<Vec<String>, Error> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(vec!["manifest".to_owned()]);
    };
    let mut levels = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    // commas inside `[…]` separate platforms, not levels
    for c in value.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                levels.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    levels.push(current);
    let levels: Vec<String> = levels
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    for level in &levels {
        let name = level.split('[').next().unwrap_or_default();
        let scoped_ok = !level.contains('[') || level.ends_with(']');
        if !LEVELS.contains(&name) || !scoped_ok {
            return Err(Error::input(format!(
                "`DOCKER_METADATA_ANNOTATIONS_LEVELS` has the unknown level `{level}`; expected `manifest`, `index`, `manifest-descriptor` or `index-descriptor`, optionally with `[platform,…]`"
            )));
        }
    }
    Ok(levels)
}

/// A JSON value with ordered keys, printed as `JSON.stringify` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Self>),
    /// An object, in insertion order.
    Obj(Vec<(String, Self)>),
}

impl Json {
    fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Self {
        Self::Arr(items.into_iter().map(|s| Self::Str(s.clone())).collect())
    }

    /// `JSON.stringify(value)`.
    pub fn compact(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// `JSON.stringify(value, null, 2)`.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, depth: usize) {
        let newline = |out: &mut String, depth: usize| {
            if let Some(width) = indent {
                out.push('\n');
                out.push_str(&" ".repeat(width * depth));
            }
        };
        match self {
            Self::Str(s) => quote(out, s),
            Self::Arr(items) if items.is_empty() => out.push_str("[]"),
            Self::Obj(items) if items.is_empty() => out.push_str("{}"),
            Self::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    item.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push(']');
            }
            Self::Obj(items) => {
                out.push('{');
                for (i, (key, value)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    quote(out, key);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    value.write(out, indent, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }
}

/// A JSON string as `JSON.stringify` writes it: `"` and `\` escaped, control characters as `\n`,
/// `\t`… or `\u00xx`, everything else as it is.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Everything the outputs are made from.
#[derive(Debug)]
pub struct Shape<'a> {
    /// The metadata.
    pub meta: &'a Meta,
    /// Annotation levels.
    pub levels: &'a [String],
    /// `sep-tags`.
    pub sep_tags: &'a str,
    /// `sep-labels`.
    pub sep_labels: &'a str,
    /// `sep-annotations`.
    pub sep_annotations: &'a str,
    /// `bake-target`.
    pub bake_target: &'a str,
}

impl Shape<'_> {
    /// `manifest:key=value` for every level, levels outermost.
    pub fn annotations(&self) -> Vec<String> {
        self.levels
            .iter()
            .flat_map(|level| {
                self.meta
                    .annotations
                    .iter()
                    .map(move |(k, v)| format!("{level}:{k}={v}"))
            })
            .collect()
    }

    fn labels_object(&self) -> Json {
        Json::Obj(
            self.meta
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Json::Str(v.clone())))
                .collect(),
        )
    }

    fn args(&self) -> Json {
        let mut args = vec![(
            "DOCKER_META_IMAGES".to_owned(),
            Json::Str(self.meta.images.join(",")),
        )];
        // JSON.stringify leaves out an undefined version
        if let Some(main) = &self.meta.version.main {
            args.push(("DOCKER_META_VERSION".to_owned(), Json::Str(main.clone())));
        }
        Json::Obj(args)
    }

    /// The `json` output.
    pub fn json(&self) -> Json {
        Json::Obj(vec![
            ("tags".to_owned(), Json::strings(&self.meta.tags)),
            ("tag-names".to_owned(), Json::strings(&self.meta.tag_names)),
            ("labels".to_owned(), self.labels_object()),
            ("annotations".to_owned(), Json::strings(&self.annotations())),
        ])
    }

    fn bake(&self, body: Vec<(String, Json)>) -> Json {
        Json::Obj(vec![(
            "target".to_owned(),
            Json::Obj(vec![(self.bake_target.to_owned(), Json::Obj(body))]),
        )])
    }

    /// The four bake files: tags, labels, annotations, and tags with labels.
    pub fn bake_files(&self) -> [(&'static str, &'static str, Json); 4] {
        let tags = || ("tags".to_owned(), Json::strings(&self.meta.tags));
        [
            (
                "bake-file-tags",
                "bake-tags.json",
                self.bake(vec![tags(), ("args".to_owned(), self.args())]),
            ),
            (
                "bake-file-labels",
                "bake-labels.json",
                self.bake(vec![("labels".to_owned(), self.labels_object())]),
            ),
            (
                "bake-file-annotations",
                "bake-annotations.json",
                self.bake(vec![(
                    "annotations".to_owned(),
                    Json::strings(&self.annotations()),
                )]),
            ),
            (
                "bake-file",
                "bake.json",
                self.bake(vec![
                    tags(),
                    ("labels".to_owned(), self.labels_object()),
                    ("args".to_owned(), self.args()),
                ]),
            ),
        ]
    }

    /// Every metadata output as `(name, value)`, writing the bake files into `dir`.
    pub fn outputs(&self, dir: &Path) -> Result<Vec<(&'static str, String)>, Error> {
        let labels: Vec<String> = self.meta.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut out = vec![
            ("version", self.meta.version.main.clone().unwrap_or_default()),
            ("tags", self.meta.tags.join(self.sep_tags)),
            ("tag-names", self.meta.tag_names.join(self.sep_tags)),
            ("labels", labels.join(self.sep_labels)),
            ("annotations", self.annotations().join(self.sep_annotations)),
            ("json", self.json().compact()),
        ];
        for (output, file, json) in self.bake_files() {
            let path: PathBuf = dir.join(file);
            std::fs::write(&path, json.pretty()).map_err(|e| {
                Error::dependency(format!("cannot write the bake file `{}`", path.display())).with_source(e)
            })?;
            out.push((output, path.display().to_string()));
        }
        Ok(out)
    }
}

/// `DOCKER_METADATA_OUTPUT_<NAME>`: non-word characters become `_`, upper-cased.
pub fn env_name(output: &str) -> String {
    let name: String = output
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("DOCKER_METADATA_OUTPUT_{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Version;

    fn meta() -> Meta {
        Meta {
            version: Version {
                main: Some("dev".to_owned()),
                partial: vec!["my".to_owned()],
                latest: false,
            },
            images: vec!["user/app".to_owned()],
            tags: vec!["user/app:dev".to_owned(), "user/app:my".to_owned()],
            tag_names: vec!["dev".to_owned(), "my".to_owned()],
            labels: vec![
                (
                    "org.opencontainers.image.title".to_owned(),
                    "Hello-World".to_owned(),
                ),
                ("foo".to_owned(), "say \"hi\"".to_owned()),
            ],
            annotations: vec![(
                "org.opencontainers.image.title".to_owned(),
                "Hello-World".to_owned(),
            )],
            warnings: vec![],
        }
    }

    fn shape<'a>(meta: &'a Meta, levels: &'a [String]) -> Shape<'a> {
        Shape {
            meta,
            levels,
            sep_tags: "\n",
            sep_labels: "\n",
            sep_annotations: "\n",
            bake_target: "docker-metadata-action",
        }
    }

    #[test]
    fn json_output_is_compact_and_ordered() {
        let meta = meta();
        let levels = vec!["manifest".to_owned(), "index".to_owned()];
        assert_eq!(
            shape(&meta, &levels).json().compact(),
            r#"{"tags":["user/app:dev","user/app:my"],"tag-names":["dev","my"],"labels":{"org.opencontainers.image.title":"Hello-World","foo":"say \"hi\""},"annotations":["manifest:org.opencontainers.image.title=Hello-World","index:org.opencontainers.image.title=Hello-World"]}"#
        );
    }

    #[test]
    fn bake_files_are_indented_like_json_stringify() {
        let mut meta = meta();
        let levels = vec!["manifest".to_owned()];
        let files = shape(&meta, &levels).bake_files();
        assert_eq!(
            files[0].2.pretty(),
            "{\n  \"target\": {\n    \"docker-metadata-action\": {\n      \"tags\": [\n        \"user/app:dev\",\n        \"user/app:my\"\n      ],\n      \"args\": {\n        \"DOCKER_META_IMAGES\": \"user/app\",\n        \"DOCKER_META_VERSION\": \"dev\"\n      }\n    }\n  }\n}"
        );
        // no version: the key is left out, and empty lists print as []
        meta.version.main = None;
        meta.tags.clear();
        let files = shape(&meta, &levels).bake_files();
        assert_eq!(
            files[0].2.compact(),
            r#"{"target":{"docker-metadata-action":{"tags":[],"args":{"DOCKER_META_IMAGES":"user/app"}}}}"#
        );
        assert_eq!(
            files[3].2.compact(),
            r#"{"target":{"docker-metadata-action":{"tags":[],"labels":{"org.opencontainers.image.title":"Hello-World","foo":"say \"hi\""},"args":{"DOCKER_META_IMAGES":"user/app"}}}}"#
        );
    }

    #[test]
    fn levels_from_the_environment() {
        for (value, expected) in [
            (None, Ok(vec!["manifest"])),
            (Some(""), Ok(vec!["manifest"])),
            (Some("manifest,index"), Ok(vec!["manifest", "index"])),
            (
                Some(" index , manifest-descriptor "),
                Ok(vec!["index", "manifest-descriptor"]),
            ),
            (
                Some("manifest[linux/amd64,linux/arm64],index"),
                Ok(vec!["manifest[linux/amd64,linux/arm64]", "index"]),
            ),
            (Some("manfest"), Err(())),
            (Some("index[linux/amd64"), Err(())),
        ] {
            let got = annotation_levels(value).map_err(|_| ());
            let expected = expected.map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
            assert_eq!(got, expected, "{value:?}");
        }
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        for text in [
            "plain",
            "say \"hi\"",
            "back\\slash",
            "line\nbreak\ttab\r",
            "\u{1}\u{8}\u{c}\u{1f}",
            "é ✓ \u{2028}",
        ] {
            let mut out = String::new();
            quote(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn env_names() {
        assert_eq!(
            env_name("bake-file-tags"),
            "DOCKER_METADATA_OUTPUT_BAKE_FILE_TAGS"
        );
        assert_eq!(env_name("json"), "DOCKER_METADATA_OUTPUT_JSON");
    }
}

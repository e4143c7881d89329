//! `Env`: the process environment, captured once and passed in.
//!
//! Tools never read `std::env` directly: `main` captures an [`Env`] and hands it down, and tests build one
//! from pairs, so no test mutates the process environment. Input lookup follows `@actions/core`
//! (`getInput`, `getBooleanInput`, `getMultilineInput`) exactly; see the unit tests for each rule.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A boolean input held something outside the YAML 1.2 core schema's boolean set.
    #[error("input `{name}` must be one of `true`, `True`, `TRUE`, `false`, `False`, `FALSE`, got `{value}`")]
    NotBoolean {
        /// The input's name as written in action.yml.
        name: String,
        /// The value that was given (never a secret: booleans are not secret).
        value: String,
    },
    /// A required input was empty or unset.
    #[error("input required and not supplied: `{name}`")]
    Required {
        /// The input's name as written in action.yml.
        name: String,
    },
    /// `SOURCE_DATE_EPOCH` was set but not a whole number of seconds.
    #[error("`SOURCE_DATE_EPOCH` must be a whole number of seconds since 1970-01-01, got `{value}`")]
    SourceDateEpoch {
        /// The value that was given.
        value: String,
    },
}

/// A snapshot of environment variables plus the terminal facts that decide how output looks.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    stderr_is_terminal: bool,
}

impl Env {
    /// Captures the current process environment (non-UTF-8 variables are skipped) once.
    pub fn from_process() -> Self {
        use std::io::IsTerminal;
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Builds an environment from pairs, for tests and for tools that spawn children.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            stderr_is_terminal: false,
        }
    }

    /// Returns a copy with one more variable set.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// Sets whether stderr counts as a terminal (colour and layout decisions).
    #[must_use]
    pub fn with_terminal(mut self, is_terminal: bool) -> Self {
        self.stderr_is_terminal = is_terminal;
        self
    }

    /// The raw value of a variable, as set (not trimmed; empty is returned as empty).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A variable that is set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.var(name).filter(|v| !v.is_empty())
    }

    /// Every captured variable, for spawning children with the same environment.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether the tool runs inside GitHub Actions (`GITHUB_ACTIONS=true`).
    pub fn is_actions(&self) -> bool {
        self.var("GITHUB_ACTIONS") == Some("true")
    }

    /// Whether colour may be used on stderr: a terminal, not Actions, and `NO_COLOR` unset or empty.
    pub fn color(&self) -> bool {
        self.stderr_is_terminal && !self.is_actions() && self.non_empty("NO_COLOR").is_none()
    }

    /// Whether `RUNNER_DEBUG=1` (step debug logging) is on.
    pub fn debug(&self) -> bool {
        self.var("RUNNER_DEBUG") == Some("1")
    }

    /// `getInput(name)`: the value of `INPUT_<NAME>` trimmed, `None` when unset or empty.
    ///
    /// The name is upper-cased with spaces turned into `_`; hyphens are kept, as the runner spells it
    /// (`dry-run` → `INPUT_DRY-RUN`). Because composite actions map inputs through `env:` themselves and a
    /// hyphen is awkward there, `INPUT_DRY_RUN` is accepted too; the runner's spelling wins when both are set.
    pub fn input(&self, name: &str) -> Option<String> {
        input_env_names(name)
            .iter()
            .filter_map(|key| self.var(key))
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// `getInput(name, { required: true })`.
    pub fn required_input(&self, name: &str) -> Result<String, InputError> {
        self.input(name).ok_or_else(|| InputError::Required {
            name: name.to_owned(),
        })
    }

    /// `getBooleanInput(name)`: only `true|True|TRUE|false|False|FALSE`. Unlike `@actions/core`, an unset
    /// or empty input is `Ok(None)` so the caller can apply its default; anything else is an error.
    pub fn bool_input(&self, name: &str) -> Result<Option<bool>, InputError> {
        self.input(name).map(|v| parse_bool(name, &v)).transpose()
    }

    /// `getMultilineInput(name)`: split on `\n`, drop empty lines, *then* trim each line. The order is the
    /// toolkit's: a line holding only spaces survives the filter and comes back as `""`.
    pub fn multiline_input(&self, name: &str) -> Vec<String> {
        let raw = input_env_names(name)
            .iter()
            .filter_map(|key| self.var(key))
            .find(|v| !v.trim().is_empty());
        match raw {
            Some(raw) => split_multiline(raw),
            None => Vec::new(),
        }
    }

    /// "Now": `SOURCE_DATE_EPOCH` when set (reproducible builds; tests pin the clock with it), else the clock.
    pub fn now(&self) -> Result<SystemTime, InputError> {
        match self.non_empty("SOURCE_DATE_EPOCH") {
            Some(raw) => raw
                .trim()
                .parse::<u64>()
                .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
                .map_err(|_| InputError::SourceDateEpoch {
                    value: raw.to_owned(),
                }),
            None => Ok(SystemTime::now()),
        }
    }

    /// `GITHUB_WORKSPACE`, else the current directory.
    pub fn workspace(&self) -> PathBuf {
        self.non_empty("GITHUB_WORKSPACE")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// `GITHUB_API_URL`, else `https://api.github.com` (GHES sets `https://HOST/api/v3`).
    pub fn github_api_url(&self) -> String {
        self.non_empty("GITHUB_API_URL")
            .unwrap_or("https://api.github.com")
            .trim_end_matches('/')
            .to_owned()
    }

    /// `GITHUB_SERVER_URL`, else `https://github.com`.
    pub fn github_server_url(&self) -> String {
        self.non_empty("GITHUB_SERVER_URL")
            .unwrap_or("https://github.com")
            .trim_end_matches('/')
            .to_owned()
    }

    /// `GITHUB_REPOSITORY` split into owner and name.
    pub fn repository(&self) -> Option<(String, String)> {
        let (owner, name) = self.non_empty("GITHUB_REPOSITORY")?.split_once('/')?;
        (!owner.is_empty() && !name.is_empty()).then(|| (owner.to_owned(), name.to_owned()))
    }

    /// `RUNNER_TEMP`, else the system temp directory.
    pub fn runner_temp(&self) -> PathBuf {
        self.non_empty("RUNNER_TEMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
    }

    /// The link to this workflow run, when the runner set the variables for it.
    pub fn run_url(&self) -> Option<String> {
        let repo = self.non_empty("GITHUB_REPOSITORY")?;
        let run_id = self.non_empty("GITHUB_RUN_ID")?;
        let mut url = format!("{}/{repo}/actions/runs/{run_id}", self.github_server_url());
        if let Some(attempt) = self.non_empty("GITHUB_RUN_ATTEMPT") {
            url.push_str("/attempts/");
            url.push_str(attempt);
        }
        Some(url)
    }
}

/// The variable names an input is looked up under: the runner's spelling first, then underscores.
pub fn input_env_names(name: &str) -> [String; 2] {
    let runner = format!("INPUT_{}", name.replace(' ', "_").to_uppercase());
    let underscored = runner.replace('-', "_");
    [runner, underscored]
}

/// The YAML 1.2 core schema booleans, exactly as `@actions/core` accepts them.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, InputError> {
    match value.trim() {
        "true" | "True" | "TRUE" => Ok(true),
        "false" | "False" | "FALSE" => Ok(false),
        _ => Err(InputError::NotBoolean {
            name: name.to_owned(),
            value: value.to_owned(),
        }),
    }
}

/// The multiline rule: `split('\n').filter(x => x !== '').map(trim)`.
pub fn split_multiline(raw: &str) -> Vec<String> {
    raw.split('\n')
        .filter(|line| !line.is_empty())
        .map(|line| line.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_keep_hyphens_and_replace_spaces() {
        assert_eq!(
            input_env_names("dry-run"),
            ["INPUT_DRY-RUN".to_owned(), "INPUT_DRY_RUN".to_owned()]
        );
        assert_eq!(
            input_env_names("my input"),
            ["INPUT_MY_INPUT".to_owned(), "INPUT_MY_INPUT".to_owned()]
        );
    }

    #[test]
    fn input_trims_and_empty_is_unset() {
        for (pairs, expected) in [
            (vec![("INPUT_DRY-RUN", " yes \n")], Some("yes")),
            (vec![("INPUT_DRY_RUN", "x")], Some("x")),
            (
                vec![("INPUT_DRY-RUN", "runner"), ("INPUT_DRY_RUN", "mapped")],
                Some("runner"),
            ),
            (
                vec![("INPUT_DRY-RUN", "   "), ("INPUT_DRY_RUN", "mapped")],
                Some("mapped"),
            ),
            (vec![("INPUT_DRY-RUN", "")], None),
            (vec![("INPUT_DRY-RUN", " \t ")], None),
            (vec![], None),
        ] {
            let env = Env::from_pairs(pairs.clone());
            assert_eq!(env.input("dry-run").as_deref(), expected, "{pairs:?}");
        }
    }

    #[test]
    fn required_input_names_the_input() {
        let err = Env::default().required_input("app-spec").unwrap_err();
        assert_eq!(err.to_string(), "input required and not supplied: `app-spec`");
    }

    #[test]
    fn bool_input_accepts_exactly_the_core_schema_set() {
        for (value, expected) in [
            ("true", Some(true)),
            ("True", Some(true)),
            ("TRUE", Some(true)),
            (" true\n", Some(true)),
            ("false", Some(false)),
            ("False", Some(false)),
            ("FALSE", Some(false)),
        ] {
            let env = Env::from_pairs([("INPUT_X", value)]);
            assert_eq!(env.bool_input("x"), Ok(expected), "{value:?}");
        }
        for value in ["yes", "1", "tRue", "on", "no", "0", "truee"] {
            let env = Env::from_pairs([("INPUT_X", value)]);
            assert!(
                matches!(env.bool_input("x"), Err(InputError::NotBoolean { .. })),
                "{value:?} must be rejected"
            );
        }
        assert_eq!(Env::from_pairs([("INPUT_X", "")]).bool_input("x"), Ok(None));
    }

    #[test]
    fn multiline_filters_before_trimming() {
        let env = Env::from_pairs([("INPUT_TAGS", "a\n\n  b  \n   \nc\r\n")]);
        // the whitespace-only line survives the filter and is trimmed to "" afterwards (toolkit order)
        assert_eq!(env.multiline_input("tags"), vec!["a", "b", "", "c"]);
        assert_eq!(Env::default().multiline_input("tags"), Vec::<String>::new());
    }

    #[test]
    fn now_honours_source_date_epoch() {
        let env = Env::from_pairs([("SOURCE_DATE_EPOCH", "1700000000")]);
        assert_eq!(
            env.now().unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        let bad = Env::from_pairs([("SOURCE_DATE_EPOCH", "yesterday")]);
        assert!(matches!(bad.now(), Err(InputError::SourceDateEpoch { .. })));
    }

    #[test]
    fn color_respects_no_color_and_actions() {
        let tty = Env::default().with_terminal(true);
        assert!(tty.color());
        assert!(!tty.clone().with("NO_COLOR", "1").color());
        assert!(tty.clone().with("NO_COLOR", "").color());
        assert!(!tty.with("GITHUB_ACTIONS", "true").color());
    }

    #[test]
    fn run_url_from_runner_vars() {
        let env = Env::from_pairs([
            ("GITHUB_SERVER_URL", "https://ghes.example"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
        ]);
        assert_eq!(
            env.run_url().as_deref(),
            Some("https://ghes.example/o/r/actions/runs/42/attempts/2")
        );
    }
}

//! clap parsing that reads action inputs the way the runner sets them, and the end of `main`.
//!
//! Every flag `--foo-bar` of a tool declares `env = "INPUT_FOO_BAR"`, which documents the input in
//! `--help` and lets the contract test match action.yml to the CLI. clap's own env lookup is not used,
//! though: it treats a set-but-empty variable as a value (a composite action's unset optional input
//! arrives as `""`) and it does not trim. [`parse`] instead reads each input with `@actions/core`
//! semantics from the captured [`Env`] (both `INPUT_FOO_BAR` and the runner spelling `INPUT_FOO-BAR`,
//! trimmed, empty = unset, strict booleans, multiline lists) and hands clap the values as flags, before
//! anything on the command line, which wins.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{ArgAction, CommandFactory, FromArgMatches};

use crate::env::{Env, parse_bool, split_multiline};
use crate::exit::{ExitStatus, Report, error_chain};
use crate::runner::{Runner, printable};

/// Parses `argv` (program name first) into `T`, with inputs from `env`.
pub fn parse<T: CommandFactory + FromArgMatches>(
    argv: impl IntoIterator<Item = impl Into<OsString>>,
    env: &Env,
) -> Result<T, clap::Error> {
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let mut command = T::command();
    let mut from_env: Vec<OsString> = Vec::new();
    // Flags whose value came from an input: their errors name the input, not the flag.
    let mut from_inputs: Vec<String> = Vec::new();
    for arg in command.get_arguments() {
        let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        // The input is named like the flag (`--dry-run` ⇔ input `dry-run`); the declared variable is
        // checked against that name by the contract test.
        let _ = var;
        let input = long.to_owned();
        if given_on_command_line(&argv, long, arg.get_short()) {
            continue;
        }
        let Some(value) = env.input(&input) else { continue };
        from_inputs.push(input.clone());
        match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse => {
                let on = parse_bool(&input, &value).map_err(|e| {
                    clap::Error::raw(
                        clap::error::ErrorKind::InvalidValue,
                        format!("{}\n", printable(&e.to_string())),
                    )
                })?;
                let wanted = matches!(arg.get_action(), ArgAction::SetTrue);
                if on == wanted {
                    from_env.push(format!("--{long}").into());
                }
            }
            ArgAction::Append => {
                for line in split_multiline(&value).into_iter().filter(|l| !l.is_empty()) {
                    from_env.push(format!("--{long}={line}").into());
                }
            }
            ArgAction::Count => {
                if let Ok(n) = value.parse::<usize>() {
                    from_env.extend(std::iter::repeat_n(OsString::from(format!("--{long}")), n));
                }
            }
            _ => from_env.push(format!("--{long}={value}").into()),
        }
    }
    // Strip clap's env lookups so a set-but-empty variable cannot sneak in as a value; hide env values in
    // help, which could otherwise print a token.
    command = command.mut_args(|a| a.env(None::<&str>));
    let mut full = Vec::with_capacity(argv.len() + from_env.len());
    let mut rest = argv.into_iter();
    full.extend(rest.next());
    full.extend(from_env);
    full.extend(rest);
    match command.try_get_matches_from_mut(&full) {
        Ok(matches) => T::from_arg_matches(&matches).map_err(|e| e.format(&mut T::command())),
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            // Render help from the original command, so `[env: INPUT_…]` is listed for every flag.
            let original = T::command().mut_args(|a| a.hide_env_values(true));
            Err(original.try_get_matches_from(full).err().unwrap_or(e))
        }
        Err(e) => Err(name_the_input(
            e.format(&mut T::command()),
            &T::command(),
            &from_inputs,
            env.is_actions(),
        )),
    }
}

/// A clap error about a flag, reworded to name the action input when the value came from one (or,
/// inside Actions, whenever the flag is an input): `input \`timeout\`: …`, with no `--flag` and no
/// "try '--help'", which mean nothing to someone writing a workflow. The kind, and so exit code 2, stays.
fn name_the_input(
    error: clap::Error,
    command: &clap::Command,
    from_inputs: &[String],
    actions: bool,
) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // `--timeout <DURATION>` → `timeout`, when that flag is an input this error should name
    let input_of = |spec: &str| -> Option<String> {
        let long = spec.strip_prefix("--")?.split([' ', '=']).next()?.to_owned();
        let declared = command
            .get_arguments()
            .any(|a| a.get_long() == Some(long.as_str()) && a.get_env().is_some());
        (from_inputs.contains(&long) || (actions && declared)).then_some(long)
    };
    let string = |kind| match error.get(kind) {
        Some(ContextValue::String(v)) => Some(v.clone()),
        _ => None,
    };
    let message = match error.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let Some(input) = string(ContextKind::InvalidArg).and_then(|spec| input_of(&spec)) else {
                return error;
            };
            let value = printable(&string(ContextKind::InvalidValue).unwrap_or_default()).into_owned();
            let valid = match error.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(values)) => values.clone(),
                _ => Vec::new(),
            };
            if error.kind() == ErrorKind::InvalidValue && !valid.is_empty() {
                let valid: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
                format!(
                    "input `{input}` must be one of {}, got `{value}`",
                    valid.join(", ")
                )
            } else {
                // the value parser's own words name the value (or, for a secret, do not)
                let reason =
                    std::error::Error::source(&error).map(|r| printable(&r.to_string()).into_owned());
                match reason {
                    Some(reason) if value.is_empty() || reason.contains(&value) => {
                        format!("input `{input}`: {reason}")
                    }
                    Some(reason) => format!("input `{input}`: invalid value `{value}`: {reason}"),
                    None if value.is_empty() => format!("input `{input}` needs a value"),
                    None => format!("input `{input}` has an invalid value `{value}`"),
                }
            }
        }
        ErrorKind::MissingRequiredArgument if actions => {
            let Some(ContextValue::Strings(specs)) = error.get(ContextKind::InvalidArg) else {
                return error;
            };
            let inputs: Vec<String> = specs.iter().filter_map(|spec| input_of(spec)).collect();
            if inputs.len() != specs.len() {
                return error;
            }
            let names: Vec<String> = inputs.iter().map(|i| format!("`{i}`")).collect();
            format!("input required and not supplied: {}", names.join(", "))
        }
        _ => return error,
    };
    clap::Error::raw(error.kind(), format!("{message}\n"))
}

fn given_on_command_line(argv: &[OsString], long: &str, short: Option<char>) -> bool {
    let flag = format!("--{long}");
    let with_value = format!("--{long}=");
    argv.iter()
        .skip(1)
        .map(|a| a.to_string_lossy())
        .take_while(|a| a != "--")
        .any(|a| {
            a == flag
                || a.starts_with(&with_value)
                || short.is_some_and(|s| a.starts_with('-') && !a.starts_with("--") && a[1..].starts_with(s))
        })
}

/// Prints a clap error (or help) and returns its exit code: 0 for help and version, 2 for usage errors.
pub fn exit_on_clap_error(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(ExitStatus::Usage.code()))
}

/// The end of every tool's `main`: maps the outcome to the exit code, printing an error as
/// `error: …`, `  caused by: …` and `hint: …` (and an `::error::` annotation in Actions).
pub fn finish<E: Report>(tool: &str, runner: &Runner, result: Result<ExitStatus, E>) -> ExitCode {
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            let chain = error_chain(&error);
            let mut text = chain.first().cloned().unwrap_or_default();
            for cause in chain.iter().skip(1) {
                text.push_str("\n  caused by: ");
                text.push_str(cause);
            }
            if let Some(hint) = error.hint() {
                text.push_str("\nhint: ");
                text.push_str(&hint);
            }
            let mut annotation = crate::runner::Annotation::new(crate::finding::Level::Error, text);
            annotation.title = Some(tool.to_owned());
            runner.annotate(vec![annotation], "");
            error.exit_status().into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Args {
        /// Where to deploy.
        #[arg(long, env = "INPUT_ENVIRONMENT", default_value = "staging")]
        environment: String,
        /// Do nothing for real.
        #[arg(long, env = "INPUT_DRY_RUN")]
        dry_run: bool,
        /// Images, one per line.
        #[arg(long = "images", env = "INPUT_IMAGES")]
        images: Vec<String>,
        /// A count.
        #[arg(long, env = "INPUT_TIMEOUT")]
        timeout: Option<u32>,
        /// How long to wait.
        #[arg(long, env = "INPUT_WAIT", value_name = "DURATION", value_parser = crate::duration::parse)]
        wait: Option<std::time::Duration>,
        /// What to do.
        #[arg(long, env = "INPUT_MODE", value_enum, default_value_t = Mode::Fast)]
        mode: Mode,
        /// Who approves.
        #[arg(long, env = "INPUT_APPROVER", required = true)]
        approver: Option<String>,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
    enum Mode {
        Fast,
        Careful,
    }

    fn run(argv: &[&str], pairs: &[(&str, &str)]) -> Result<Args, clap::Error> {
        let mut full = vec!["tool"];
        full.extend(argv);
        let mut pairs = pairs.to_vec();
        if !pairs.iter().any(|(k, _)| *k == "INPUT_APPROVER")
            && !argv.iter().any(|a| a.starts_with("--approver"))
        {
            pairs.push(("INPUT_APPROVER", "octocat"));
        }
        parse::<Args>(full, &Env::from_pairs(pairs))
    }

    /// Inside Actions, durations and enums named the flag (`'--wait <DURATION>'`) and said "try
    /// '--help'", while booleans named the input: every input error names the input.
    #[test]
    fn errors_about_inputs_name_the_input_not_the_flag() {
        for (pairs, says) in [
            (
                vec![("INPUT_WAIT", "soon")],
                "error: input `wait`: expected a duration such as `90s`, `15m`, `1h30m` or `300ms`, got `soon`\n",
            ),
            (
                vec![("INPUT_WAIT", "60")],
                "error: input `wait`: `60` has no unit: write `60s` for seconds or `60m` for minutes\n",
            ),
            (
                vec![("INPUT_MODE", "slow")],
                "error: input `mode` must be one of `fast`, `careful`, got `slow`\n",
            ),
            (
                vec![("INPUT_TIMEOUT", "soon\n::error::x")],
                "error: input `timeout`: invalid value `soon\\n::error::x`: invalid digit found in string\n",
            ),
            (
                vec![("INPUT_DRY_RUN", "yes\n::add-mask::e")],
                "error: input `dry-run` must be one of `true`, `True`, `TRUE`, `false`, `False`, `FALSE`, got `yes\\n::add-mask::e`\n",
            ),
        ] {
            for actions in [false, true] {
                let mut pairs = pairs.clone();
                if actions {
                    pairs.push(("GITHUB_ACTIONS", "true"));
                }
                let err = run(&[], &pairs).unwrap_err();
                assert_eq!(err.exit_code(), 2, "{pairs:?}");
                assert_eq!(err.to_string(), says, "{pairs:?}");
            }
        }
        // a flag on the command line is named as the flag, as clap says it
        let err = run(&["--wait", "soon"], &[]).unwrap_err();
        assert!(err.to_string().contains("'--wait <DURATION>'"), "{err}");
        // inside Actions a missing required input is named as an input
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true")]);
        let err = parse::<Args>(["tool"], &env).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            "error: input required and not supplied: `approver`\n"
        );
    }

    #[test]
    fn empty_input_means_unset_so_defaults_apply() {
        let args = run(
            &[],
            &[
                ("INPUT_ENVIRONMENT", ""),
                ("INPUT_DRY_RUN", ""),
                ("INPUT_TIMEOUT", "  "),
            ],
        )
        .unwrap();
        assert_eq!(args.environment, "staging");
        assert!(!args.dry_run);
        assert_eq!(args.timeout, None);
    }

    #[test]
    fn inputs_are_trimmed_and_both_spellings_work() {
        let args = run(
            &[],
            &[("INPUT_ENVIRONMENT", " production \n"), ("INPUT_DRY-RUN", "True")],
        )
        .unwrap();
        assert_eq!(args.environment, "production");
        assert!(args.dry_run);
    }

    #[test]
    fn booleans_are_strict() {
        let err = run(&[], &[("INPUT_DRY_RUN", "yes")]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("input `dry-run` must be one of `true`"),
            "{err}"
        );
        assert!(!run(&[], &[("INPUT_DRY_RUN", "FALSE")]).unwrap().dry_run);
    }

    #[test]
    fn multiline_inputs_become_lists() {
        let args = run(
            &[],
            &[("INPUT_IMAGES", "web=reg/a@sha256:1\n\n  worker=reg/b:2  \n   \n")],
        )
        .unwrap();
        assert_eq!(args.images, vec!["web=reg/a@sha256:1", "worker=reg/b:2"]);
    }

    #[test]
    fn command_line_wins_over_inputs() {
        let args = run(
            &["--environment", "dev", "--timeout=5"],
            &[("INPUT_ENVIRONMENT", "prod"), ("INPUT_TIMEOUT", "9")],
        )
        .unwrap();
        assert_eq!(args.environment, "dev");
        assert_eq!(args.timeout, Some(5));
    }

    #[test]
    fn bad_values_exit_2() {
        let err = run(&[], &[("INPUT_TIMEOUT", "soon")]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[test]
    fn help_lists_the_input_variables() {
        let err = run(&["--help"], &[]).unwrap_err();
        assert_eq!(err.exit_code(), 0);
        let help = err.to_string();
        assert!(help.contains("[env: INPUT_DRY_RUN"), "{help}");
    }
}

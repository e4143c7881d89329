//! The `lint-gate` binary: parse inputs, capture the environment, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    let env = ops_core::Env::from_process();
    let args = match ops_core::cli::parse::<lint_gate::cli::Args>(std::env::args_os(), &env) {
        Ok(args) => args,
        Err(error) => return ops_core::cli::exit_on_clap_error(&error),
    };
    let runner = ops_core::Runner::new(&env);
    ops_core::cli::finish("lint-gate", &runner, lint_gate::run(&args, &env, &runner))
}

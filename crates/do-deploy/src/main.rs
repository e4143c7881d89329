//! The `do-deploy` binary: parse, capture the environment, run, map the exit status.

fn main() -> std::process::ExitCode {
    let env = ops_core::Env::from_process();
    let args = match ops_core::cli::parse::<do_deploy::cli::Args>(std::env::args_os(), &env) {
        Ok(args) => args,
        Err(error) => return ops_core::cli::exit_on_clap_error(&error),
    };
    let runner = ops_core::Runner::new(&env);
    ops_core::cli::finish("do-deploy", &runner, do_deploy::run(&args, &env, &runner))
}

//! `migrate-check`: gate database migration pull requests. Everything lives in the library; see `lib.rs`.

fn main() -> std::process::ExitCode {
    let env = ops_core::Env::from_process();
    let args = match ops_core::cli::parse::<migrate_check::cli::Args>(std::env::args_os(), &env) {
        Ok(args) => args,
        Err(error) => return ops_core::cli::exit_on_clap_error(&error),
    };
    let runner = ops_core::Runner::new(&env);
    ops_core::cli::finish("migrate-check", &runner, migrate_check::run(&args, &env, &runner))
}

//! The `image-build-tag` binary: parse, capture the environment once, run, map the exit status.

fn main() -> std::process::ExitCode {
    let env = ops_core::Env::from_process();
    let args = match ops_core::cli::parse::<image_build_tag::cli::Args>(std::env::args_os(), &env) {
        Ok(args) => args,
        Err(error) => return ops_core::cli::exit_on_clap_error(&error),
    };
    let runner = ops_core::Runner::new(&env);
    ops_core::cli::finish(
        "image-build-tag",
        &runner,
        image_build_tag::run(&args, &env, &runner),
    )
}

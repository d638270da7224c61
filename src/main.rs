//! The `seedpack` binary: parse, run, report an error once, exit with its code.

use clap::Parser;

fn main() {
    let cli = seedpack::cli::Cli::parse();
    // Past a file size limit (RLIMIT_FSIZE) the kernel sends SIGXFSZ, which
    // kills by default; with a handler the write fails with EFBIG instead and
    // the error is reported (and the temporary artifact removed) like any other.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("seedpack: error: cannot start the async runtime: {e}");
            std::process::exit(seedpack::error::EXIT_FAILURE);
        }
    };
    let code = match runtime.block_on(seedpack::run(cli)) {
        Ok(()) => seedpack::error::EXIT_OK,
        Err(err) => {
            eprintln!("seedpack: error: {}", seedpack::error::one_line(&err));
            seedpack::error::exit_code(&err)
        }
    };
    // Let blocking work (a dump's writer removing its temporary file) end first.
    drop(runtime);
    std::process::exit(code);
}

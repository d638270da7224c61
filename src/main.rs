//! The `seedpack` binary: parse, run, exit with the status the run ends in.

use std::process::ExitCode;

use clap::Parser;

/// jemalloc, not glibc's malloc: glibc's per-thread arenas kept freed
/// memory resident, 76 MiB for a data-only restore of 10,000 tables whose
/// heap never exceeded 34 MiB (47 MiB with jemalloc; mimalloc: 77 MiB).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
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
            let error = anyhow::Error::new(e).context("cannot start the async runtime");
            return seedpack::output::report_error(&error).into();
        }
    };
    let status = runtime.block_on(seedpack::run(cli));
    // Let blocking work (a dump's writer removing its temporary file) end first.
    drop(runtime);
    status.into()
}

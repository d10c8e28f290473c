//! The CUDA backend's background compiler (`backend/cuda/background.rs`): a process that exits
//! while a job runs waits for that job, and starts no other. Run I's GPU processes crashed at
//! exit when a compile was still going. No GPU needed: these jobs only sleep and write files.

use rill_core::internals::background_request;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CHILD: &str = "RILL_TEST_BACKGROUND_CHILD";
const NAME: &str = "background_compile::exit_waits_for_the_job_in_progress_and_starts_no_other";

fn touch(path: &Path) {
    std::fs::write(path, b"").unwrap();
}

/// In the child: a slow job, a second one queued behind it, and an exit while the first runs.
fn child(dir: PathBuf) -> ! {
    let (d1, d2) = (dir.clone(), dir.clone());
    background_request(u64::MAX - 1, move || {
        touch(&d1.join("started"));
        std::thread::sleep(Duration::from_millis(400));
        touch(&d1.join("done"));
    });
    background_request(u64::MAX - 2, move || touch(&d2.join("second")));
    let start = Instant::now();
    while !dir.join("started").exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::process::exit(0)
}

#[test]
fn exit_waits_for_the_job_in_progress_and_starts_no_other() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(PathBuf::from(dir));
    }
    let dir = std::env::temp_dir().join(format!("rill-background-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD, &dir)
        .status()
        .unwrap();
    let exists = |f: &str| dir.join(f).exists();
    let (started, done, second) = (exists("started"), exists("done"), exists("second"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(status.success(), "the child exited with {status}");
    assert!(started, "the first job never started");
    assert!(done, "the process exited in the middle of a job");
    assert!(!second, "a job started after exit began");
}

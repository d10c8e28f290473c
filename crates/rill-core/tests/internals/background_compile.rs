//! The CUDA backend's background compiler (`backend/cuda/background.rs`): a process that exits
//! while a job runs waits for that job, and starts no other. Run I's GPU processes crashed at
//! exit when a compile was still going. A forked child exits at once, whatever the parent's
//! compiler is doing. No GPU needed: these jobs only sleep and write files.

use rill_core::internals::{
    background_close_at_thread_end, background_compile, background_request,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CHILD: &str = "RILL_TEST_BACKGROUND_CHILD";
const NAME: &str = "background_compile::exit_waits_for_the_job_in_progress_and_starts_no_other";
const FORK_CHILD: &str = "RILL_TEST_BACKGROUND_FORK_CHILD";
const FORK_NAME: &str = "background_compile::a_forked_child_exits_while_the_parent_compiles";

fn touch(path: &Path) {
    std::fs::write(path, b"").unwrap();
}

/// Runs the test `name` of this binary in a child process, with `var` naming a fresh directory
/// (`rill-background<tag>-<pid>`) for the child's marker files; returns the directory and how the
/// child exited.
fn run_in_child(tag: &str, name: &str, var: &str) -> (PathBuf, std::process::ExitStatus) {
    let dir = std::env::temp_dir().join(format!("rill-background{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(var, &dir)
        .status()
        .unwrap();
    (dir, status)
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
    let (dir, status) = run_in_child("", NAME, CHILD);
    let exists = |f: &str| dir.join(f).exists();
    let (started, done, second) = (exists("started"), exists("done"), exists("second"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(status.success(), "the child exited with {status}");
    assert!(started, "the first job never started");
    assert!(done, "the process exited in the middle of a job");
    assert!(!second, "a job started after exit began");
}

const LATE_CHILD: &str = "RILL_TEST_BACKGROUND_LATE_CHILD";
const LATE_NAME: &str =
    "background_compile::an_exit_handler_registered_during_a_job_runs_after_the_job";

static LATE_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
static JOB_DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What NVRTC does in the middle of a compile: an exit handler registered by the job itself.
extern "C" fn late_handler() {
    if !JOB_DONE.load(std::sync::atomic::Ordering::SeqCst) {
        touch(&LATE_DIR.get().unwrap().join("late-handler-ran-first"));
    }
}

/// In the child: the exiting thread carries the guard (as the main thread does in Node and
/// Python), a job registers an exit handler and works on for 400 ms, and the thread exits while
/// it runs.
fn late_child(dir: PathBuf) -> ! {
    background_close_at_thread_end();
    LATE_DIR.set(dir.clone()).unwrap();
    let d1 = dir.clone();
    background_request(u64::MAX - 6, move || {
        // SAFETY: registers a plain function.
        unsafe { libc::atexit(late_handler) };
        touch(&d1.join("started"));
        std::thread::sleep(Duration::from_millis(400));
        JOB_DONE.store(true, std::sync::atomic::Ordering::SeqCst);
        touch(&d1.join("done"));
    });
    let start = Instant::now();
    while !dir.join("started").exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::process::exit(0)
}

/// Rule 7: an exit handler that a job registered (after the compiler's own last registration)
/// runs at exit before the compiler's handler; the guard on the exiting thread closes the
/// compiler first, so that handler finds the job finished (Node's exit crash, run R).
#[test]
fn an_exit_handler_registered_during_a_job_runs_after_the_job() {
    if let Some(dir) = std::env::var_os(LATE_CHILD) {
        late_child(PathBuf::from(dir));
    }
    let (dir, status) = run_in_child("-late", LATE_NAME, LATE_CHILD);
    let exists = |f: &str| dir.join(f).exists();
    let (started, done, late) = (
        exists("started"),
        exists("done"),
        exists("late-handler-ran-first"),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(status.success(), "the child exited with {status}");
    assert!(started, "the job never started");
    assert!(done, "the process exited in the middle of the job");
    assert!(
        !late,
        "an exit handler registered by the job ran while the job was still running"
    );
}

/// In the child: a job of two seconds, a fork while it runs, and the forked process's `exit`
/// (which runs the exit handlers) timed by the child: it must not wait for the parent's job, nor
/// hang on a lock the job's thread held at the fork.
#[cfg(unix)]
fn fork_child(dir: PathBuf) -> ! {
    let d1 = dir.clone();
    background_request(u64::MAX - 3, move || {
        touch(&d1.join("started"));
        std::thread::sleep(Duration::from_secs(2));
    });
    let start = Instant::now();
    while !dir.join("started").exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // A request in flight in the parent when the child starts: the child queues it, never runs it.
    // SAFETY: the forked process only calls `exit` (async-signal-unsafe work in a child of a
    // multi-threaded process is exactly what this test puts the exit handler through).
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        background_request(u64::MAX - 4, || std::process::abort());
        // SAFETY: ends the forked process through the exit handlers, as `sys.exit` in a forked
        // Python worker does.
        unsafe { libc::exit(0) };
    }
    let forked = Instant::now();
    let mut status = 0;
    let waited = loop {
        // SAFETY: waits for the process forked above, without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break true;
        }
        if forked.elapsed() > Duration::from_secs(10) {
            // SAFETY: ends and reaps the hung process forked above, so it outlives no test.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            break false;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let report = format!(
        "{} {} {}",
        waited,
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        forked.elapsed().as_millis()
    );
    std::fs::write(dir.join("report"), report).unwrap();
    std::process::exit(0)
}

#[cfg(unix)]
#[test]
fn a_forked_child_exits_while_the_parent_compiles() {
    if let Some(dir) = std::env::var_os(FORK_CHILD) {
        fork_child(PathBuf::from(dir));
    }
    let (dir, status) = run_in_child("-fork", FORK_NAME, FORK_CHILD);
    let report = std::fs::read_to_string(dir.join("report")).unwrap_or_default();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(status.success(), "the child exited with {status}");
    let parts: Vec<&str> = report.split(' ').collect();
    assert_eq!(parts.len(), 3, "no report from the child: {report:?}");
    assert_eq!(
        parts[0], "true",
        "the forked process had not exited after 10 s (it hung at exit)"
    );
    assert_eq!(parts[1], "true", "the forked process failed: {report}");
    let ms: u64 = parts[2].parse().unwrap();
    assert!(
        ms < 1500,
        "the forked process waited {ms} ms at exit (the parent's job takes 2000)"
    );
}

const NVRTC_CHILD: &str = "RILL_TEST_BACKGROUND_NVRTC_CHILD";
const NVRTC_DELAY: &str = "RILL_TEST_BACKGROUND_NVRTC_DELAY_MS";
const NVRTC_NAME: &str = "background_compile::exit_while_nvrtc_compiles_in_the_background";

/// In the child: the largest kernel modules queued for the background compiler with an empty
/// disk cache (so NVRTC compiles each, and has compiled nothing in this process before), and an
/// exit while the worker is inside NVRTC.
fn nvrtc_child(dir: PathBuf) -> ! {
    std::env::set_var("RILL_KERNEL_CACHE", dir.join("cache"));
    let mut modules = rill_core::backend::cuda::all_modules();
    modules.sort_by_key(|(_, src)| std::cmp::Reverse(src.len()));
    let marker = dir.clone();
    background_request(u64::MAX - 5, move || touch(&marker.join("started")));
    for (i, (_, src)) in modules.into_iter().take(8).enumerate() {
        background_compile(u64::MAX - 100 - i as u64, "sm_90", src);
    }
    let start = Instant::now();
    while !dir.join("started").exists() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Somewhere inside the first compile after the marker (NVRTC's first compile registers its
    // destructors well into the compile: exits 40-80 ms in broke the process, 0-20 ms did not).
    let ms: u64 = std::env::var(NVRTC_DELAY).unwrap().parse().unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    std::process::exit(0)
}

/// NVRTC registers destructors during its first compile in a process; exiting while the
/// background compiler is inside NVRTC crashed or hung the process (run O on the H200) until
/// NVRTC's first compile was made before the exit handler's last registration.
#[test]
fn exit_while_nvrtc_compiles_in_the_background() {
    if let Some(dir) = std::env::var_os(NVRTC_CHILD) {
        nvrtc_child(PathBuf::from(dir));
    }
    if !rill_core::backend::cuda::nvrtc_present() {
        eprintln!("SKIPPED: the NVRTC library cannot be loaded here; nothing was compiled");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rill-background-nvrtc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (round, delay_ms) in [10, 40, 60, 80, 120, 200].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NVRTC_NAME, "--nocapture", "--test-threads=1"])
            .env(NVRTC_CHILD, &dir)
            .env(NVRTC_DELAY, delay_ms.to_string())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let started = dir.join("started").exists();
        let _ = std::fs::remove_dir_all(dir.join("cache"));
        let _ = std::fs::remove_file(dir.join("started"));
        let status = match status {
            Some(s) => s,
            None => {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("round {round}: the child had not exited after 30 s (it hung at exit)");
            }
        };
        if !status.success() || !started {
            let _ = std::fs::remove_dir_all(&dir);
        }
        assert!(
            started,
            "round {round}: the background compiler never started"
        );
        assert!(
            status.success(),
            "round {round}: the child, exiting {delay_ms} ms into a compile, exited with {status}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

//! Independent jobs that each need scratch buffers: run on the pool (one scratch per worker
//! thread, made when the thread takes its first job) or one after another on the calling thread
//! (one scratch for all), as the caller's work size decides. The convolutions use it: a job is a
//! block of output rows and the scratch its packed inputs and products.

/// Runs `f(job, scratch)` for every job, on the pool when `parallel`.
pub(super) fn each_with_scratch<J: Send, S>(
    jobs: Vec<J>,
    parallel: bool,
    scratch: impl Fn() -> S + Send + Sync,
    f: impl Fn(J, &mut S) + Send + Sync,
) {
    if parallel {
        use rayon::prelude::*;
        jobs.into_par_iter()
            .for_each_init(scratch, |s, job| f(job, s));
    } else {
        let mut s = scratch();
        for job in jobs {
            f(job, &mut s);
        }
    }
}

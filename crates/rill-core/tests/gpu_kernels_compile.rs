//! Every GPU kernel module compiles with NVRTC for the architectures rill targets. NVRTC needs no
//! GPU, so this runs wherever its library can be loaded (`pip install nvidia-cuda-nvrtc` puts one
//! on disk; point LD_LIBRARY_PATH at it). Where it cannot, the test says so and checks nothing.
//! `RILL_KERNEL_ONLY=fused/` (a prefix of module names) compiles one family only.

#[cfg(feature = "cuda")]
#[test]
fn every_kernel_module_compiles_for_hopper() {
    use rill_core::backend::cuda;
    if !cuda::nvrtc_present() {
        eprintln!("SKIPPED: the NVRTC library cannot be loaded here; no GPU kernel was compiled");
        return;
    }
    let modules = cuda::all_modules();
    assert!(modules.len() > 100, "only {} kernel modules", modules.len());
    // RILL_KERNEL_ONLY=prefix compiles only the modules whose names start with it (`fused/`).
    let only = std::env::var("RILL_KERNEL_ONLY").unwrap_or_default();
    let failures = cuda::compile_kernels("sm_90", |name| name.starts_with(&only));
    for (name, log) in &failures {
        eprintln!("--- {name}\n{log}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} kernel modules failed to compile",
        failures.len(),
        modules.len()
    );
}

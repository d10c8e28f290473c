//! Kernels compiled at run time by NVRTC for the GPU's exact architecture, cached in memory (per
//! GPU: loaded modules) and on disk (the compiled CUBIN, keyed by a hash of the source, the
//! architecture and the options), so a kernel is compiled once per machine, not once per process.
//!
//! The disk cache lives in `$RILL_KERNEL_CACHE`, else `$XDG_CACHE_HOME/rill/kernels`, else
//! `~/.cache/rill/kernels`; a cache that cannot be written is skipped silently (the kernel is
//! still compiled and used). Each write goes to a temporary name of its own and is renamed, so no
//! reader, in this process or another, ever reads half a file.
//!
//! Rules: `Kernels::function` holds the GPU's module map lock only to look up or insert; two
//! threads that miss at once may both compile the same module (the second result is dropped),
//! which costs time but never correctness.

use super::driver::{check, make_current};
use super::gpu::Gpu;
use crate::{Error, Result};
use cudarc::driver::sys;
use cudarc::nvrtc::sys as nvrtc;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The modules one GPU has loaded, by name, with their functions.
#[derive(Default)]
pub(super) struct Kernels {
    modules: Mutex<HashMap<String, Module>>,
    /// Functions by a caller-made numeric key: the hot path of small ops looks a kernel up
    /// without formatting its module's name.
    by_key: Mutex<HashMap<u64, Function>>,
}

struct Module {
    raw: sys::CUmodule,
    functions: HashMap<String, sys::CUfunction>,
}

// SAFETY: module and function handles are valid on any thread with the context current.
unsafe impl Send for Kernels {}
// SAFETY: as above; the map is behind a mutex.
unsafe impl Sync for Kernels {}

/// A kernel function handle, valid for the life of the process (modules are never unloaded).
#[derive(Clone, Copy)]
pub(super) struct Function(pub(super) sys::CUfunction);

// SAFETY: see `Kernels`.
unsafe impl Send for Function {}
// SAFETY: see `Kernels`.
unsafe impl Sync for Function {}

impl Kernels {
    /// The kernel that `key` stands for, if it was loaded already.
    pub(super) fn lookup(&self, key: u64) -> Option<Function> {
        // Each thread keeps the kernels it used: the shared map's mutex, taken on every op by
        // every thread that drains a stream, would make two streams' threads take turns.
        // Functions are never unloaded, so a remembered one stays valid.
        thread_local! {
            static SEEN: std::cell::RefCell<HashMap<(usize, u64), Function>> =
                std::cell::RefCell::new(HashMap::new());
        }
        let id = (self as *const Kernels as usize, key);
        if let Some(f) = SEEN.with(|m| m.borrow().get(&id).copied()) {
            return Some(f);
        }
        let f = self.by_key.lock().unwrap().get(&key).copied()?;
        SEEN.with(|m| m.borrow_mut().insert(id, f));
        Some(f)
    }

    /// The kernel that `key` stands for (a number unique to one module and kernel name, chosen by
    /// the caller), found by `module()` and `name` on first use.
    pub(super) fn function_by_key(
        &self,
        gpu: &Gpu,
        key: u64,
        module: impl FnOnce() -> String,
        name: &str,
        source: impl FnOnce() -> String,
    ) -> Result<Function> {
        if let Some(f) = self.lookup(key) {
            return Ok(f);
        }
        let f = self.function(gpu, &module(), name, source)?;
        self.by_key.lock().unwrap().insert(key, f);
        Ok(f)
    }

    /// The kernel `name` of the module `module` (its source made by `source` on first use).
    pub(super) fn function(
        &self,
        gpu: &Gpu,
        module: &str,
        name: &str,
        source: impl FnOnce() -> String,
    ) -> Result<Function> {
        self.function_from(gpu, module, name, |arch| cubin(&source(), arch, module))
    }

    /// The kernel `name` of the module `module`, whose image (a CUBIN, or PTX text ending in a
    /// NUL byte) `image` makes for the GPU's architecture on first use.
    pub(super) fn function_from(
        &self,
        gpu: &Gpu,
        module: &str,
        name: &str,
        image: impl FnOnce(&str) -> Result<Vec<u8>>,
    ) -> Result<Function> {
        {
            let modules = self.modules.lock().unwrap();
            if let Some(m) = modules.get(module) {
                if let Some(&f) = m.functions.get(name) {
                    return Ok(Function(f));
                }
            }
        }
        make_current(gpu.ctx)?;
        let loaded = self.modules.lock().unwrap().get(module).map(|m| m.raw);
        let raw = match loaded {
            Some(raw) => raw,
            None => {
                let image = image(&gpu.arch())?;
                let mut raw = std::ptr::null_mut();
                // SAFETY: `image` is a complete CUBIN for this GPU's architecture; the context is
                // current.
                check("cuda", "cuModuleLoadData", unsafe {
                    sys::cuModuleLoadData(&mut raw, image.as_ptr() as *const _)
                })?;
                let mut modules = self.modules.lock().unwrap();
                modules
                    .entry(module.to_string())
                    .or_insert(Module {
                        raw,
                        functions: HashMap::new(),
                    })
                    .raw
            }
        };
        let cname = CString::new(name)
            .map_err(|_| Error::arg("cuda", format!("kernel name {name:?} contains a NUL byte")))?;
        let mut f = std::ptr::null_mut();
        // SAFETY: `raw` is a loaded module; `cname` is NUL-terminated.
        check("cuda", "cuModuleGetFunction", unsafe {
            sys::cuModuleGetFunction(&mut f, raw, cname.as_ptr())
        })
        .map_err(|e| Error::device("cuda", format!("kernel {name} of module {module}: {e}")))?;
        if let Some(m) = self.modules.lock().unwrap().get_mut(module) {
            m.functions.insert(name.to_string(), f);
        }
        Ok(Function(f))
    }
}

/// No fused multiply-adds: results must match the CPU kernels', which round every step.
const OPTIONS: &[&str] = &["--std=c++17", "-DNDEBUG", "--fmad=false"];

fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RILL_KERNEL_CACHE") {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("rill").join("kernels"))
}

fn cache_key(src: &str, arch: &str, extra: &[String]) -> String {
    // SipHash with fixed keys: the same in every run of the same build.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    src.hash(&mut h);
    arch.hash(&mut h);
    OPTIONS.hash(&mut h);
    extra.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The CUBIN of `src` for `arch` (`sm_90`): from the disk cache, or compiled by NVRTC (and cached).
pub(super) fn cubin(src: &str, arch: &str, module: &str) -> Result<Vec<u8>> {
    cubin_with(src, arch, module, &[])
}

/// Where `src`'s CUBIN for `arch` is cached on disk (None: no cache directory).
fn cache_path(src: &str, arch: &str, extra: &[String]) -> Option<PathBuf> {
    cache_dir().map(|d| d.join(format!("{}-{arch}.cubin", cache_key(src, arch, extra))))
}

/// Whether making `src`'s CUBIN for `arch` would run NVRTC (it is not in the disk cache).
pub(super) fn needs_nvrtc(src: &str, arch: &str) -> bool {
    cache_path(src, arch, &[]).is_none_or(|p| !p.is_file())
}

/// NVRTC's first compile in this process: a kernel that does nothing, compiled once, before any
/// other (by `compile` on the thread that needs NVRTC first, or by a thread about to hand a
/// compile to the background compiler). NVRTC registers the destructors of state it builds
/// during its first compile; the background compiler's exit handler must be registered after
/// those (background.rs, rule 6), which is done here.
pub(super) fn warm_up(arch: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // A failure here shows again, with its message, in the compile that follows.
        let _ = nvrtc_compile(
            "extern \"C\" __global__ void rill_warm_up() {}\n",
            arch,
            "warm_up",
            &[],
        );
        super::background::register_again();
    });
}

/// As `cubin`, with NVRTC options beyond rill's own (include directories of user kernels).
pub(super) fn cubin_with(src: &str, arch: &str, module: &str, extra: &[String]) -> Result<Vec<u8>> {
    let path = cache_path(src, arch, extra);
    if let Some(p) = &path {
        if let Ok(bytes) = std::fs::read(p) {
            return Ok(bytes);
        }
    }
    let bytes = compile(src, arch, module, extra)?;
    if let Some(p) = &path {
        if let Some(dir) = p.parent() {
            if std::fs::create_dir_all(dir).is_ok() {
                // A name of this write's own: two threads of one process that compile the same
                // module at once each write a whole file and rename it (with one name per
                // process, one thread's `write` could truncate the file the other had just
                // renamed into place, and a reader could load a truncated CUBIN).
                static WRITES: AtomicU64 = AtomicU64::new(0);
                let nth = WRITES.fetch_add(1, Ordering::Relaxed);
                let tmp = p.with_extension(format!("tmp{}-{nth}", std::process::id()));
                if std::fs::write(&tmp, &bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, p);
                }
            }
        }
    }
    Ok(bytes)
}

fn nvrtc_check(module: &str, what: &str, status: nvrtc::nvrtcResult) -> Result<()> {
    if status == nvrtc::nvrtcResult::NVRTC_SUCCESS {
        return Ok(());
    }
    // SAFETY: nvrtcGetErrorString returns a static NUL-terminated string for any status.
    let text = unsafe { CStr::from_ptr(nvrtc::nvrtcGetErrorString(status)) }.to_string_lossy();
    Err(Error::device(
        "cuda",
        format!("NVRTC {what} failed for kernel module {module}: {text}"),
    ))
}

/// Compiles `src` to a CUBIN for `arch` with NVRTC (which must be loadable: the backend checks
/// that before it registers a GPU).
pub(super) fn compile(src: &str, arch: &str, module: &str, extra: &[String]) -> Result<Vec<u8>> {
    warm_up(arch);
    nvrtc_compile(src, arch, module, extra)
}

fn nvrtc_compile(src: &str, arch: &str, module: &str, extra: &[String]) -> Result<Vec<u8>> {
    let nul = |what: &str| {
        Error::arg(
            "cuda",
            format!("the {what} of kernel module {module} contains a NUL byte"),
        )
    };
    let csrc = CString::new(src).map_err(|_| nul("source"))?;
    let cname =
        CString::new(format!("{}.cu", module.replace('/', "_"))).map_err(|_| nul("name"))?;
    let mut prog: nvrtc::nvrtcProgram = std::ptr::null_mut();
    // SAFETY: valid out-pointer and NUL-terminated strings that outlive the program.
    nvrtc_check(module, "create", unsafe {
        nvrtc::nvrtcCreateProgram(
            &mut prog,
            csrc.as_ptr(),
            cname.as_ptr(),
            0,
            std::ptr::null(),
            std::ptr::null(),
        )
    })?;
    let result = (|| {
        let arch_opt = CString::new(format!("--gpu-architecture={arch}")).unwrap();
        let opts: Vec<CString> = OPTIONS
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .map(CString::new)
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| nul("options"))?;
        let mut ptrs: Vec<*const std::ffi::c_char> = opts.iter().map(|o| o.as_ptr()).collect();
        ptrs.push(arch_opt.as_ptr());
        // SAFETY: `prog` is a live program; the option pointers are NUL-terminated strings alive
        // for the call.
        let status = unsafe { nvrtc::nvrtcCompileProgram(prog, ptrs.len() as i32, ptrs.as_ptr()) };
        if status != nvrtc::nvrtcResult::NVRTC_SUCCESS {
            let mut size = 0usize;
            // SAFETY: `prog` is live; the log buffer is sized by the first call.
            let log = unsafe {
                nvrtc::nvrtcGetProgramLogSize(prog, &mut size);
                let mut buf = vec![0u8; size.max(1)];
                nvrtc::nvrtcGetProgramLog(prog, buf.as_mut_ptr() as *mut _);
                String::from_utf8_lossy(&buf)
                    .trim_end_matches('\0')
                    .to_string()
            };
            return Err(Error::device(
                "cuda",
                format!("NVRTC could not compile kernel module {module} for {arch}:\n{log}"),
            ));
        }
        let mut size = 0usize;
        // SAFETY: `prog` compiled successfully.
        nvrtc_check(module, "cubin size", unsafe {
            nvrtc::nvrtcGetCUBINSize(prog, &mut size)
        })?;
        let mut out = vec![0u8; size];
        // SAFETY: `out` has the size NVRTC reported.
        nvrtc_check(module, "cubin", unsafe {
            nvrtc::nvrtcGetCUBIN(prog, out.as_mut_ptr() as *mut _)
        })?;
        Ok(out)
    })();
    // SAFETY: `prog` was created above and is destroyed once.
    unsafe { nvrtc::nvrtcDestroyProgram(&mut prog) };
    result
}

/// True when NVRTC's library can be loaded (without a GPU: the kernels can still be compiled,
/// which is how they are checked on machines without one).
pub fn nvrtc_present() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { nvrtc::is_culib_present() }
}

/// Loads NVRTC's library for the rest of the process, when it is present (cudarc loads it on the
/// first call otherwise, and panics where it is missing).
pub(super) fn load_nvrtc() {
    if nvrtc_present() {
        // SAFETY: the library is present (checked above); loading it has no other effect.
        unsafe {
            nvrtc::culib();
        }
    }
}

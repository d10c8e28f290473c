// Debug aid (not part of rill): preloaded (LD_PRELOAD), prints every `__cxa_atexit` registration
// (the registering library, the handler's library, the thread, ms since start), to see which exit
// handlers run before which (exit runs them in reverse order). How run P found cuBLASLt's
// handlers registered after rill's background compiler's (docs/benchmarks.md, runs O-P).
// Build: cc -shared -fPIC -o atexit_trace.so atexit_trace.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static double t0;
static double now(){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e3+t.tv_nsec/1e6; }
__attribute__((constructor)) static void init(void){ t0 = now(); }
int __cxa_atexit(void (*f)(void*), void *arg, void *dso) {
    static int (*real)(void (*)(void*), void*, void*);
    if (!real) real = dlsym(RTLD_NEXT, "__cxa_atexit");
    Dl_info info; const char *who = "?";
    if (dladdr(__builtin_return_address(0), &info) && info.dli_fname) who = info.dli_fname;
    const char *w = strrchr(who, '/'); w = w ? w + 1 : who;
    Dl_info fi; const char *fn = "?";
    if (dladdr((void*)f, &fi) && fi.dli_fname) { fn = strrchr(fi.dli_fname, '/'); fn = fn ? fn + 1 : fi.dli_fname; }
    fprintf(stderr, "cxa %.1f tid %ld from %s fn %s %p\n", now()-t0, (long)syscall(SYS_gettid), w, fn, (void*)f);
    return real(f, arg, dso);
}

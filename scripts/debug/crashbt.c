// Debug aid (not part of rill): preloaded (LD_PRELOAD), on a fatal signal prints every thread's
// backtrace (each thread prints its own, asked by SIGUSR2) and the process's mappings, then dies
// with the signal. The GPU machine has no gdb; `timeout -s SEGV` turns a hang into a dump too.
// Offsets in a Rust binary resolve with `addr2line -f -C -e <unstripped binary> 0x...` (release
// binaries are stripped: relink the test with `-C strip=none`, docs/benchmarks.md runs O-P).
// CRASHBT_DIR=dir: each dump goes to dir/crashbt.<pid>.txt instead of stderr (`node --test` keeps
// no stderr of its children, run Q). CRASHBT_KEEP=1: later sigaction() calls for the fatal
// signals and SIGUSR2 are ignored, so a program that installs its own handlers (Node, V8) still
// dumps through this one.
// Build: cc -O1 -g -shared -fPIC -o crashbt.so crashbt.c -ldl
#define _GNU_SOURCE
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <dlfcn.h>
static int out = 2;
static const char *dir;
static void say(const char *s) { write(out, s, strlen(s)); }
static void own_trace(const char *why) {
    char buf[128];
    snprintf(buf, sizeof buf, "\n=== crashbt: %s tid %ld\n", why, (long)syscall(SYS_gettid));
    say(buf);
    void *frames[64];
    int k = backtrace(frames, 64);
    backtrace_symbols_fd(frames, k, out);
}
static void on_usr2(int sig) { (void)sig; own_trace("thread"); }
static void dump(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    char buf[128];
    if (dir) {
        char path[512];
        snprintf(path, sizeof path, "%s/crashbt.%d.txt", dir, (int)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) out = fd;
    }
    snprintf(buf, sizeof buf, "signal %d addr %p", sig, si ? si->si_addr : 0);
    own_trace(buf);
    long self = syscall(SYS_gettid);
    DIR *d = opendir("/proc/self/task");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            long tid = atol(e->d_name);
            if (tid <= 0 || tid == self) continue;
            syscall(SYS_tgkill, getpid(), tid, SIGUSR2);
            usleep(30000);
        }
        closedir(d);
    }
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd >= 0) {
        char m[4096]; ssize_t r;
        say("=== maps\n");
        while ((r = read(fd, m, sizeof m)) > 0) write(out, m, r);
        close(fd);
    }
    say("=== end crashbt\n");
    signal(sig, SIG_DFL);
    raise(sig);
}
static int installed, keep;
static int fatal(int sig) {
    return sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS || sig == SIGILL || sig == SIGUSR2;
}
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    static int (*next)(int, const struct sigaction *, struct sigaction *);
    if (!next) next = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (installed && keep && act && fatal(sig)) return next(sig, 0, old);
    return next(sig, act, old);
}
__attribute__((constructor)) static void init(void) {
    void *warm[2]; backtrace(warm, 2);
    dir = getenv("CRASHBT_DIR");
    keep = getenv("CRASHBT_KEEP") != 0;
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = dump; sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    static char altstack[1 << 20];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    sigaltstack(&ss, 0);
    sigaction(SIGSEGV, &sa, 0); sigaction(SIGABRT, &sa, 0); sigaction(SIGBUS, &sa, 0); sigaction(SIGILL, &sa, 0);
    signal(SIGUSR2, on_usr2);
    installed = 1;
}

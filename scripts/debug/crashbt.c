// Debug aid (not part of rill): preloaded (LD_PRELOAD), on a fatal signal prints every thread's
// backtrace (each thread prints its own, asked by SIGUSR2) and the process's mappings, then dies
// with the signal. The GPU machine has no gdb; `timeout -s SEGV` turns a hang into a dump too.
// Offsets in a Rust binary resolve with `addr2line -f -C -e <unstripped binary> 0x...` (release
// binaries are stripped: relink the test with `-C strip=none`, docs/benchmarks.md runs O-P).
// Build: cc -O1 -g -shared -fPIC -o crashbt.so crashbt.c
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
static void say(const char *s) { write(2, s, strlen(s)); }
static void own_trace(const char *why) {
    char buf[128];
    snprintf(buf, sizeof buf, "\n=== crashbt: %s tid %ld\n", why, (long)syscall(SYS_gettid));
    say(buf);
    void *frames[64];
    int k = backtrace(frames, 64);
    backtrace_symbols_fd(frames, k, 2);
}
static void on_usr2(int sig) { (void)sig; own_trace("thread"); }
static void dump(int sig, siginfo_t *si, void *uc) {
    char buf[128];
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
        while ((r = read(fd, m, sizeof m)) > 0) write(2, m, r);
        close(fd);
    }
    say("=== end crashbt\n");
    signal(sig, SIG_DFL);
    raise(sig);
}
__attribute__((constructor)) static void init(void) {
    void *warm[2]; backtrace(warm, 2);
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = dump; sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    static char altstack[1 << 20];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    sigaltstack(&ss, 0);
    sigaction(SIGSEGV, &sa, 0); sigaction(SIGABRT, &sa, 0); sigaction(SIGBUS, &sa, 0); sigaction(SIGILL, &sa, 0);
    signal(SIGUSR2, on_usr2);
}

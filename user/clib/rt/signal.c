/* Signals over rt_sigaction, rt_sigprocmask, rt_sigpending and kill (abi/src/signal.rs).
 * Replaces picolibc's signal() and raise(), which emulate signals inside the process. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nx.h"

/* The kernel's struct sigaction (abi::signal::SigAction). */
struct ksigaction {
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

_Static_assert(sizeof(siginfo_t) == 128, "siginfo_t");
_Static_assert(offsetof(siginfo_t, si_pid) == 16, "si_pid");
_Static_assert(sizeof(sigset_t) == 8, "sigset_t");

int sigaction(int sig, const struct sigaction *__restrict act, struct sigaction *__restrict old)
{
    struct ksigaction k, ko;
    if (act) {
        k.handler = (uint64_t)(uintptr_t)act->sa_handler;
        /* Nothing ever stops, so SA_NOCLDSTOP asks for what already holds. */
        k.flags = (uint64_t)(unsigned)act->sa_flags & ~(uint64_t)SA_NOCLDSTOP;
        k.restorer = (uint64_t)(uintptr_t)act->sa_restorer;
        if (!(k.flags & SA_RESTORER)) {
            k.flags |= SA_RESTORER;
            k.restorer = (uint64_t)(uintptr_t)__nx_sigreturn;
        }
        k.mask = act->sa_mask;
    }
    long r = __nx_sys4(SYS_rt_sigaction, sig, act ? &k : NULL, old ? &ko : NULL, 8);
    if (__nx_ret(r) < 0)
        return -1;
    if (old) {
        memset(old, 0, sizeof *old);
        old->sa_handler = (void (*)(int))(uintptr_t)ko.handler;
        old->sa_flags = (int)ko.flags;
        old->sa_restorer = (void (*)(void))(uintptr_t)ko.restorer;
        old->sa_mask = ko.mask;
    }
    return 0;
}

/* BSD semantics, as glibc's signal(): the handler stays, interrupted calls restart. */
sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

int kill(pid_t pid, int sig)
{
    return __nx_ret(__nx_sys2(SYS_kill, pid, sig));
}

int raise(int sig)
{
    return kill(getpid(), sig);
}

int sigprocmask(int how, const sigset_t *__restrict set, sigset_t *__restrict old)
{
    return __nx_ret(__nx_sys4(SYS_rt_sigprocmask, how, set, old, 8));
}

/* One thread per process: the process's mask. Returns the error number. */
int pthread_sigmask(int how, const sigset_t *__restrict set, sigset_t *__restrict old)
{
    return __nx_err(__nx_sys4(SYS_rt_sigprocmask, how, set, old, 8));
}

int sigpending(sigset_t *set)
{
    return __nx_ret(__nx_sys2(SYS_rt_sigpending, set, 8));
}

int sigsuspend(const sigset_t *mask)
{
    (void)mask;
    return (int)__nx_fail(ENOSYS);
}

/* No alternate stacks: asking shows one disabled, and disabling is already done. */
int sigaltstack(const stack_t *__restrict ss, stack_t *__restrict old)
{
    if (old) {
        old->ss_sp = NULL;
        old->ss_size = 0;
        old->ss_flags = SS_DISABLE;
    }
    if (ss && !(ss->ss_flags & SS_DISABLE))
        return (int)__nx_fail(ENOSYS);
    return 0;
}

static int bad_sig(int sig)
{
    return sig < 1 || sig > 64;
}

int sigemptyset(sigset_t *set)
{
    *set = 0;
    return 0;
}

int sigfillset(sigset_t *set)
{
    *set = ~(sigset_t)0;
    return 0;
}

int sigaddset(sigset_t *set, int sig)
{
    if (bad_sig(sig))
        return (int)__nx_fail(EINVAL);
    *set |= (sigset_t)1 << (sig - 1);
    return 0;
}

int sigdelset(sigset_t *set, int sig)
{
    if (bad_sig(sig))
        return (int)__nx_fail(EINVAL);
    *set &= ~((sigset_t)1 << (sig - 1));
    return 0;
}

int sigismember(const sigset_t *set, int sig)
{
    if (bad_sig(sig))
        return (int)__nx_fail(EINVAL);
    return (*set >> (sig - 1)) & 1;
}

/* glibc's texts. */
static const char *const names[32] = {
    [SIGHUP] = "Hangup",
    [SIGINT] = "Interrupt",
    [SIGQUIT] = "Quit",
    [SIGILL] = "Illegal instruction",
    [SIGTRAP] = "Trace/breakpoint trap",
    [SIGABRT] = "Aborted",
    [SIGBUS] = "Bus error",
    [SIGFPE] = "Floating point exception",
    [SIGKILL] = "Killed",
    [SIGUSR1] = "User defined signal 1",
    [SIGSEGV] = "Segmentation fault",
    [SIGUSR2] = "User defined signal 2",
    [SIGPIPE] = "Broken pipe",
    [SIGALRM] = "Alarm clock",
    [SIGTERM] = "Terminated",
    [SIGSTKFLT] = "Stack fault",
    [SIGCHLD] = "Child exited",
    [SIGCONT] = "Continued",
    [SIGSTOP] = "Stopped (signal)",
    [SIGTSTP] = "Stopped",
    [SIGTTIN] = "Stopped (tty input)",
    [SIGTTOU] = "Stopped (tty output)",
    [SIGURG] = "Urgent I/O condition",
    [SIGXCPU] = "CPU time limit exceeded",
    [SIGXFSZ] = "File size limit exceeded",
    [SIGVTALRM] = "Virtual timer expired",
    [SIGPROF] = "Profiling timer expired",
    [SIGWINCH] = "Window changed",
    [SIGIO] = "I/O possible",
    [SIGPWR] = "Power failure",
    [SIGSYS] = "Bad system call",
};

char *strsignal(int sig)
{
    static char buf[32];
    if (sig >= 1 && sig < 32)
        return (char *)names[sig];
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, sizeof buf, "Real-time signal %d", sig - SIGRTMIN);
    else
        snprintf(buf, sizeof buf, "Unknown signal %d", sig);
    return buf;
}

void psignal(int sig, const char *s)
{
    if (s && *s)
        fprintf(stderr, "%s: %s\n", s, strsignal(sig));
    else
        fprintf(stderr, "%s\n", strsignal(sig));
}

void psiginfo(const siginfo_t *info, const char *s)
{
    psignal(info->si_signo, s);
}

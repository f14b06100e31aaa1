/* signal.h: Linux aarch64 signal numbers and the kernel's sigaction (abi/src/signal.rs).
 * Shadows picolibc's, whose numbers are newlib's and whose signal() is emulated in user
 * space. Handlers run with SA_RESTORER set to the runtime's trampoline (sigaction() adds it);
 * the kernel honours SA_SIGINFO, SA_RESTART, SA_NODEFER and SA_RESETHAND and refuses any
 * other flag with EINVAL (SA_NOCLDSTOP is accepted: nothing ever stops). No alternate
 * signal stacks, no queued real-time signals. */
#ifndef _NX_SIGNAL_H
#define _NX_SIGNAL_H
/* Keep picolibc's signal headers out. */
#define _SIGNAL_H_
#define _SYS_SIGNAL_H

#include <sys/types.h>
#include <sys/_sigset.h>

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(_SIGSET_T_DECLARED)
#define _SIGSET_T_DECLARED
typedef __sigset_t sigset_t; /* 64 bits: bit n - 1 is signal n (the kernel's SigSet) */
#endif

typedef int sig_atomic_t;
typedef void (*sighandler_t)(int);
typedef void (*_sig_func_ptr)(int);

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGIOT SIGABRT
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGSTKFLT 16
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGIO 29
#define SIGPOLL SIGIO
#define SIGPWR 30
#define SIGSYS 31
#define SIGRTMIN 32
#define SIGRTMAX 64
/* Signals are 1..64; NSIG is one more, as in glibc. */
#define NSIG 65
#define _NSIG 65

#define SIG_DFL ((sighandler_t)0)
#define SIG_IGN ((sighandler_t)1)
#define SIG_ERR ((sighandler_t)-1)

#define SA_NOCLDSTOP 0x00000001
#define SA_NOCLDWAIT 0x00000002 /* EINVAL: not implemented */
#define SA_SIGINFO 0x00000004
#define SA_ONSTACK 0x08000000 /* EINVAL: no alternate signal stacks */
#define SA_RESTART 0x10000000
#define SA_NODEFER 0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTORER 0x04000000
#define SA_NOMASK SA_NODEFER
#define SA_ONESHOT SA_RESETHAND

#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

union sigval {
    int sival_int;
    void *sival_ptr;
};

#define SIGEV_SIGNAL 0
#define SIGEV_NONE 1
#define SIGEV_THREAD 2

struct sigevent {
    union sigval sigev_value;
    int sigev_signo;
    int sigev_notify;
    union {
        int _pad[12];
        int _tid;
    } _sigev_un;
};

/* siginfo_t (128 bytes, Linux's layout; the kernel fills si_signo, si_code and, for kill(),
 * si_pid and si_uid). */
typedef struct {
    int si_signo;
    int si_errno;
    int si_code;
    int __pad0;
    union {
        int __pad[28];
        struct {
            pid_t si_pid;
            uid_t si_uid;
            union sigval si_value;
        } __kill;
        struct {
            void *si_addr;
        } __fault;
        struct {
            pid_t si_pid;
            uid_t si_uid;
            int si_status;
            int __pad;
            long si_utime;
            long si_stime;
        } __chld;
    } __si;
} siginfo_t;

#define si_pid __si.__kill.si_pid
#define si_uid __si.__kill.si_uid
#define si_value __si.__kill.si_value
#define si_addr __si.__fault.si_addr
#define si_status __si.__chld.si_status

/* si_code values. */
#define SI_USER 0
#define SI_KERNEL 0x80
#define SI_QUEUE -1
#define SI_TIMER -2
#define SI_MESGQ -3
#define SI_ASYNCIO -4

struct sigaction {
    union {
        void (*sa_handler)(int);
        void (*sa_sigaction)(int, siginfo_t *, void *);
    } __sa_handler;
    sigset_t sa_mask;
    int sa_flags;
    void (*sa_restorer)(void);
};
#define sa_handler __sa_handler.sa_handler
#define sa_sigaction __sa_handler.sa_sigaction

/* No alternate signal stacks: sigaltstack() is ENOSYS, SA_ONSTACK is EINVAL. */
typedef struct {
    void *ss_sp;
    int ss_flags;
    size_t ss_size;
} stack_t;
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define SIGSTKSZ 8192

sighandler_t signal(int sig, sighandler_t handler);
int sigaction(int sig, const struct sigaction *__restrict act, struct sigaction *__restrict old);
int raise(int sig);
int kill(pid_t pid, int sig);
int sigprocmask(int how, const sigset_t *__restrict set, sigset_t *__restrict old);
int pthread_sigmask(int how, const sigset_t *__restrict set, sigset_t *__restrict old);
int sigpending(sigset_t *set);
/* ENOSYS: the kernel has no atomic mask-and-wait (rt_sigsuspend). */
int sigsuspend(const sigset_t *mask);
int sigaltstack(const stack_t *__restrict ss, stack_t *__restrict old);
int sigemptyset(sigset_t *set);
int sigfillset(sigset_t *set);
int sigaddset(sigset_t *set, int sig);
int sigdelset(sigset_t *set, int sig);
int sigismember(const sigset_t *set, int sig);
char *strsignal(int sig);
void psignal(int sig, const char *s);
void psiginfo(const siginfo_t *info, const char *s);

#ifdef __cplusplus
}
#endif

#endif

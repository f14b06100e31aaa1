/* Start-up and exit: the thread pointer (errno and picolibc's other thread-locals live in
 * the TLS block the linker script places in the data segment), stdio's buffering,
 * constructors, main, then exit() with destructors and every stdio stream flushed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nx.h"

extern char **environ;
extern char __tls_base[];
extern char __arm64_tls_tcb_offset[];
extern void __libc_init_array(void);
extern void __libc_fini_array(void);
/* picolibc's atexit() list; only linked when something registers a handler. */
extern void __call_exitprocs(int, void *) __attribute__((weak));

int main(int argc, char **argv, char **envp);

/* Called by _start with what the kernel passed. */
_Noreturn void __nx_start(int argc, char **argv)
{
    /* aarch64 TLS variant 1: the thread pointer sits the TCB's size below the block. */
    __asm__ volatile("msr tpidr_el0, %0" ::"r"(__tls_base - (size_t)__arm64_tls_tcb_offset));
    __nx_stdio_init();
    __libc_init_array();
    exit(main(argc, argv, environ));
}

/* exit: atexit handlers (in reverse order), destructors, then every stdio stream flushed,
 * then the process ends. Replaces picolibc's, which flushes nothing. */
_Noreturn void exit(int status)
{
    if (__call_exitprocs)
        __call_exitprocs(status, NULL);
    __libc_fini_array();
    __nx_stdio_flush_all();
    _exit(status);
}

/* abort: end the process with SIGABRT even if the program blocks, ignores or catches it
 * (picolibc's raises once, then exits 1). */
_Noreturn void abort(void)
{
    sigset_t s = (sigset_t)1 << (SIGABRT - 1);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    raise(SIGABRT);
    /* A handler returned, or it was ignored: the default action then. */
    signal(SIGABRT, SIG_DFL);
    raise(SIGABRT);
    for (;;)
        kill(getpid(), SIGKILL);
}

/* _exit: end the process now, without flushing anything. */
_Noreturn void _exit(int status)
{
    for (;;)
        __nx_sys1(SYS_exit, status);
}

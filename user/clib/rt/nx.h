/* The runtime's internal helpers (not installed for programs). */
#ifndef _NX_RT_H
#define _NX_RT_H

#include <errno.h>
#include <stddef.h>

/* A raw syscall: the result, or -errno. */
static inline long __nx_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
#define __nx_sys0(n) __nx_syscall6(n, 0, 0, 0, 0, 0, 0)
#define __nx_sys1(n, a) __nx_syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define __nx_sys2(n, a, b) __nx_syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define __nx_sys3(n, a, b, c) __nx_syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define __nx_sys4(n, a, b, c, d)                                                             \
    __nx_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define __nx_sys5(n, a, b, c, d, e)                                                          \
    __nx_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define __nx_sys6(n, a, b, c, d, e, f)                                                       \
    __nx_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* A syscall result as C wants it: -1 with errno for -4095..-1, else the value. */
static inline long __nx_ret(long r)
{
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

/* A failure with `e`: -1 and errno. */
static inline long __nx_fail(int e)
{
    errno = e;
    return -1;
}

/* The same result as an error number (posix_spawn style): 0 or the errno value. */
static inline int __nx_err(long r)
{
    return (r < 0 && r > -4096) ? (int)-r : 0;
}

void __nx_stdio_init(void);
void __nx_stdio_flush_all(void);
void __nx_sigreturn(void);

#endif

/* sys/futex.h: small helpers over the futex syscall (see linux/futex.h). Each returns 0 (or
 * the number woken) or -1 with errno: EAGAIN when *uaddr no longer holds val, ETIMEDOUT
 * after the relative timeout (NULL: none), EINTR when a signal handler ran. */
#ifndef _NX_SYS_FUTEX_H
#define _NX_SYS_FUTEX_H

#include <linux/futex.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

int futex_wait(volatile uint32_t *uaddr, uint32_t val, const struct timespec *timeout);
int futex_wake(volatile uint32_t *uaddr, int n);
/* Returns the index of the word woken. `timeout` is absolute on `clockid`
 * (CLOCK_MONOTONIC or CLOCK_REALTIME), NULL for none. */
int futex_waitv(struct futex_waitv *waiters, unsigned int n, unsigned int flags,
                const struct timespec *timeout, clockid_t clockid);
long set_robust_list(struct robust_list_head *head, size_t len);
long get_robust_list(int pid, struct robust_list_head **head, size_t *len);

#ifdef __cplusplus
}
#endif

#endif

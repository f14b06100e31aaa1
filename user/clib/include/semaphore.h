/* semaphore.h: POSIX semaphores over futexes. An unnamed semaphore placed in shared memory
 * with sem_init(sem, 1, value) works between processes (futexes are keyed by physical
 * address); a named one is a POSIX shared-memory object "/sem.NAME" (so it shows in
 * /dev/shm) mapped by sem_open. Waits are cut short by signal handlers (EINTR). */
#ifndef _NX_SEMAPHORE_H
#define _NX_SEMAPHORE_H

#include <fcntl.h>
#include <limits.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    volatile unsigned int __value;
    volatile unsigned int __waiters;
    int __pshared;
    int __pad[5];
} sem_t;

#define SEM_FAILED ((sem_t *)0)
#define SEM_VALUE_MAX INT_MAX

int sem_init(sem_t *sem, int pshared, unsigned int value);
int sem_destroy(sem_t *sem);
int sem_post(sem_t *sem);
int sem_wait(sem_t *sem);
int sem_trywait(sem_t *sem);
/* abstime is on CLOCK_REALTIME; sem_clockwait takes the clock (CLOCK_MONOTONIC too). */
int sem_timedwait(sem_t *__restrict sem, const struct timespec *__restrict abstime);
int sem_clockwait(sem_t *__restrict sem, clockid_t clock, const struct timespec *__restrict abstime);
int sem_getvalue(sem_t *__restrict sem, int *__restrict value);
sem_t *sem_open(const char *name, int oflag, ...);
int sem_close(sem_t *sem);
int sem_unlink(const char *name);

#ifdef __cplusplus
}
#endif

#endif

/* POSIX semaphores: a count and a waiter count in a futex word pair. sem_post increments
 * the count and wakes one waiter if any may sleep; sem_wait takes one with a compare-and-
 * swap or sleeps on the count while it is 0. Named semaphores are POSIX shared-memory
 * objects "/sem.NAME" holding one sem_t. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <string.h>
#include <sys/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nx.h"

_Static_assert(sizeof(sem_t) == 32, "sem_t");

int sem_init(sem_t *sem, int pshared, unsigned int value)
{
    if (value > SEM_VALUE_MAX)
        return (int)__nx_fail(EINVAL);
    memset(sem, 0, sizeof *sem);
    sem->__pshared = pshared;
    __atomic_store_n(&sem->__value, value, __ATOMIC_RELEASE);
    return 0;
}

int sem_destroy(sem_t *sem)
{
    (void)sem;
    return 0;
}

int sem_post(sem_t *sem)
{
    unsigned v = __atomic_load_n(&sem->__value, __ATOMIC_RELAXED);
    do {
        if (v >= SEM_VALUE_MAX)
            return (int)__nx_fail(EOVERFLOW);
    } while (!__atomic_compare_exchange_n(&sem->__value, &v, v + 1, 1, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
    if (__atomic_load_n(&sem->__waiters, __ATOMIC_SEQ_CST))
        futex_wake(&sem->__value, 1);
    return 0;
}

int sem_trywait(sem_t *sem)
{
    unsigned v = __atomic_load_n(&sem->__value, __ATOMIC_RELAXED);
    while (v > 0) {
        if (__atomic_compare_exchange_n(&sem->__value, &v, v - 1, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return 0;
    }
    return (int)__nx_fail(EAGAIN);
}

/* Wait until `abstime` on `clock` (NULL: for ever). */
static int wait_until(sem_t *sem, clockid_t clock, const struct timespec *abstime)
{
    if (abstime && (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000))
        return (int)__nx_fail(EINVAL);
    for (;;) {
        if (sem_trywait(sem) == 0)
            return 0;
        struct timespec rel, *tmo = NULL;
        if (abstime) {
            struct timespec now;
            if (clock_gettime(clock, &now) < 0)
                return -1;
            rel.tv_sec = abstime->tv_sec - now.tv_sec;
            rel.tv_nsec = abstime->tv_nsec - now.tv_nsec;
            if (rel.tv_nsec < 0) {
                rel.tv_nsec += 1000000000;
                rel.tv_sec--;
            }
            if (rel.tv_sec < 0)
                return (int)__nx_fail(ETIMEDOUT);
            tmo = &rel;
        }
        __atomic_fetch_add(&sem->__waiters, 1, __ATOMIC_SEQ_CST);
        int r = futex_wait(&sem->__value, 0, tmo);
        int e = errno;
        __atomic_fetch_sub(&sem->__waiters, 1, __ATOMIC_SEQ_CST);
        if (r < 0 && (e == EINTR || e == ETIMEDOUT)) {
            /* A post may have come with the timeout or the signal: take it if so. */
            if (e == ETIMEDOUT && sem_trywait(sem) == 0)
                return 0;
            return (int)__nx_fail(e);
        }
    }
}

int sem_wait(sem_t *sem)
{
    return wait_until(sem, CLOCK_REALTIME, NULL);
}

int sem_timedwait(sem_t *__restrict sem, const struct timespec *__restrict abstime)
{
    return wait_until(sem, CLOCK_REALTIME, abstime);
}

int sem_clockwait(sem_t *__restrict sem, clockid_t clock, const struct timespec *__restrict abstime)
{
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
        return (int)__nx_fail(EINVAL);
    return wait_until(sem, clock, abstime);
}

int sem_getvalue(sem_t *__restrict sem, int *__restrict value)
{
    *value = (int)__atomic_load_n(&sem->__value, __ATOMIC_RELAXED);
    return 0;
}

/* "/NAME" -> "/sem.NAME" (glibc's naming). */
static int object_name(const char *name, char *out, size_t n)
{
    while (*name == '/')
        name++;
    if (!*name || strchr(name, '/'))
        return (int)__nx_fail(EINVAL);
    if (strlen(name) + 6 > n)
        return (int)__nx_fail(ENAMETOOLONG);
    strcpy(out, "/sem.");
    strcat(out, name);
    return 0;
}

sem_t *sem_open(const char *name, int oflag, ...)
{
    char obj[NAME_MAX + 2];
    mode_t mode = 0;
    unsigned value = 0;
    if (object_name(name, obj, sizeof obj) < 0)
        return SEM_FAILED;
    if (oflag & ~(O_CREAT | O_EXCL)) {
        errno = EINVAL;
        return SEM_FAILED;
    }
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = va_arg(ap, mode_t);
        value = va_arg(ap, unsigned);
        va_end(ap);
        if (value > SEM_VALUE_MAX) {
            errno = EINVAL;
            return SEM_FAILED;
        }
    }
    int created = 0, fd = -1;
    if (oflag & O_CREAT) {
        fd = shm_open(obj, O_RDWR | O_CREAT | O_EXCL, mode);
        created = fd >= 0;
        if (fd < 0 && (errno != EEXIST || (oflag & O_EXCL)))
            return SEM_FAILED;
    }
    if (fd < 0) {
        fd = shm_open(obj, O_RDWR, 0);
        if (fd < 0)
            return SEM_FAILED;
    }
    if (created && ftruncate(fd, sizeof(sem_t)) < 0) {
        int e = errno;
        close(fd);
        shm_unlink(obj);
        errno = e;
        return SEM_FAILED;
    }
    /* One created by another process a moment ago may not have its size yet. */
    struct stat st;
    for (int tries = 0; !created; tries++) {
        if (fstat(fd, &st) < 0 || tries == 1000) {
            close(fd);
            if (tries == 1000)
                errno = EAGAIN;
            return SEM_FAILED;
        }
        if (st.st_size >= (off_t)sizeof(sem_t))
            break;
        sched_yield();
    }
    sem_t *s = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (s == MAP_FAILED) {
        errno = e;
        return SEM_FAILED;
    }
    if (created) {
        s->__pshared = 1;
        /* Openers that found the object still at 0 may be waiting on it already. */
        __atomic_store_n(&s->__value, value, __ATOMIC_RELEASE);
        futex_wake(&s->__value, INT_MAX);
    }
    return s;
}

int sem_close(sem_t *sem)
{
    return munmap(sem, sizeof(sem_t));
}

int sem_unlink(const char *name)
{
    char obj[NAME_MAX + 2];
    if (object_name(name, obj, sizeof obj) < 0)
        return -1;
    return shm_unlink(obj);
}

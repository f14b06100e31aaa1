/* Mappings, POSIX and System V shared memory, futexes (abi/src/mman.rs, shm.rs, sys.rs). */
#include <errno.h>
#include <stdint.h>
#include <sys/futex.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "nx.h"

_Static_assert(sizeof(struct ipc_perm) == 48, "ipc_perm");
_Static_assert(sizeof(struct shmid_ds) == 112, "shmid_ds");
_Static_assert(offsetof(struct shmid_ds, shm_nattch) == 88, "shm_nattch");
_Static_assert(sizeof(struct shminfo) <= sizeof(struct shmid_ds), "shminfo");
_Static_assert(sizeof(struct shm_info) <= sizeof(struct shmid_ds), "shm_info");
_Static_assert(sizeof(struct futex_waitv) == 24, "futex_waitv");
_Static_assert(sizeof(struct robust_list_head) == 24, "robust_list_head");

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    long r = __nx_sys6(SYS_mmap, addr, len, prot, flags, fd, off);
    return __nx_ret(r) < 0 ? MAP_FAILED : (void *)r;
}

int munmap(void *addr, size_t len)
{
    return __nx_ret(__nx_sys2(SYS_munmap, addr, len));
}

int mprotect(void *addr, size_t len, int prot)
{
    return __nx_ret(__nx_sys3(SYS_mprotect, addr, len, prot));
}

int msync(void *addr, size_t len, int flags)
{
    return __nx_ret(__nx_sys3(SYS_msync, addr, len, flags));
}

int madvise(void *addr, size_t len, int advice)
{
    return __nx_ret(__nx_sys3(SYS_madvise, addr, len, advice));
}

/* Returns the error number. */
int posix_madvise(void *addr, size_t len, int advice)
{
    return __nx_err(__nx_sys3(SYS_madvise, addr, len, advice));
}

int shm_open(const char *name, int oflag, mode_t mode)
{
    return __nx_ret(__nx_sys3(SYS_shm_open, name, oflag, mode));
}

int shm_unlink(const char *name)
{
    return __nx_ret(__nx_sys1(SYS_shm_unlink, name));
}

int memfd_create(const char *name, unsigned int flags)
{
    return __nx_ret(__nx_sys2(SYS_memfd_create, name, flags));
}

int shmget(key_t key, size_t size, int flags)
{
    return __nx_ret(__nx_sys3(SYS_shmget, key, size, flags));
}

void *shmat(int id, const void *addr, int flags)
{
    long r = __nx_sys3(SYS_shmat, id, addr, flags);
    return __nx_ret(r) < 0 ? (void *)-1 : (void *)r;
}

int shmdt(const void *addr)
{
    return __nx_ret(__nx_sys1(SYS_shmdt, addr));
}

int shmctl(int id, int cmd, struct shmid_ds *buf)
{
    return __nx_ret(__nx_sys3(SYS_shmctl, id, cmd, buf));
}

key_t ftok(const char *path, int id)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    return (key_t)((st.st_ino & 0xffff) | ((st.st_dev & 0xff) << 16) |
                   ((unsigned)(id & 0xff) << 24));
}

int futex_wait(volatile uint32_t *uaddr, uint32_t val, const struct timespec *timeout)
{
    return __nx_ret(__nx_sys4(SYS_futex, uaddr, FUTEX_WAIT, val, timeout));
}

int futex_wake(volatile uint32_t *uaddr, int n)
{
    return __nx_ret(__nx_sys3(SYS_futex, uaddr, FUTEX_WAKE, n));
}

int futex_waitv(struct futex_waitv *waiters, unsigned int n, unsigned int flags,
                const struct timespec *timeout, clockid_t clockid)
{
    return __nx_ret(__nx_sys5(SYS_futex_waitv, waiters, n, flags, timeout, clockid));
}

long set_robust_list(struct robust_list_head *head, size_t len)
{
    return __nx_ret(__nx_sys2(SYS_set_robust_list, head, len));
}

long get_robust_list(int pid, struct robust_list_head **head, size_t *len)
{
    return __nx_ret(__nx_sys3(SYS_get_robust_list, pid, head, len));
}

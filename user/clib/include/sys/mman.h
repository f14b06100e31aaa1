/* sys/mman.h: mappings and shared-memory objects (Linux aarch64 values, abi/src/mman.rs).
 * POSIX shared memory (shm_open, shm_unlink) is the kernel's own pair of calls; the objects
 * also appear as /dev/shm/NAME. SHM_ANON is FreeBSD's: shm_open(SHM_ANON, O_RDWR, mode)
 * makes an object with no name. memfd_create and the file seals (fcntl.h: F_ADD_SEALS,
 * F_GET_SEALS, F_SEAL_*) work as on Linux. */
#ifndef _NX_SYS_MMAN_H
#define _NX_SYS_MMAN_H

#include <sys/types.h>
#define __need_size_t
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_ANON MAP_ANONYMOUS
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_FIXED_NOREPLACE 0x100000
#define MAP_FAILED ((void *)-1)

#define MS_ASYNC 1
#define MS_INVALIDATE 2
#define MS_SYNC 4

#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4 /* EINVAL: pages are never dropped */
#define POSIX_MADV_NORMAL MADV_NORMAL
#define POSIX_MADV_RANDOM MADV_RANDOM
#define POSIX_MADV_SEQUENTIAL MADV_SEQUENTIAL
#define POSIX_MADV_WILLNEED MADV_WILLNEED
#define POSIX_MADV_DONTNEED MADV_DONTNEED

#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U

/* shm_open's name for "a new object with no name" (FreeBSD's value). */
#define SHM_ANON ((char *)1)

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);
int msync(void *addr, size_t len, int flags);
int madvise(void *addr, size_t len, int advice);
int posix_madvise(void *addr, size_t len, int advice);
int shm_open(const char *name, int oflag, mode_t mode);
int shm_unlink(const char *name);
int memfd_create(const char *name, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif

/* sys/shm.h: System V shared memory (Linux aarch64 values and layouts, abi/src/shm.rs).
 * Limits: SHMMAX 64 MiB per segment, SHMMNI 128 segments, SHMSEG 64 attachments per
 * process, SHMALL 65536 pages. IPC_RMID keeps attachments working and frees the pages with
 * the last one; after it, shmat and shmctl by id are EINVAL. SHM_REMAP, SHM_EXEC and
 * SHM_HUGETLB are EINVAL. */
#ifndef _NX_SYS_SHM_H
#define _NX_SYS_SHM_H

#include <sys/ipc.h>
#define __need_size_t
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHM_RDONLY 010000
#define SHM_RND 020000
#define SHM_REMAP 040000
#define SHM_EXEC 0100000

#define SHM_LOCK 11
#define SHM_UNLOCK 12
#define SHM_STAT 13
#define SHM_INFO 14
#define SHM_STAT_ANY 15

/* Mode bits. */
#define SHM_R 0400
#define SHM_W 0200
#define SHM_DEST 01000
#define SHM_LOCKED 02000

#define SHMLBA 4096

typedef unsigned long shmatt_t;

struct shmid_ds {
    struct ipc_perm shm_perm;
    size_t shm_segsz;
    time_t shm_atime;
    time_t shm_dtime;
    time_t shm_ctime;
    pid_t shm_cpid;
    pid_t shm_lpid;
    shmatt_t shm_nattch;
    unsigned long __unused4;
    unsigned long __unused5;
};

/* IPC_INFO fills this (cast to struct shmid_ds *). */
struct shminfo {
    unsigned long shmmax;
    unsigned long shmmin;
    unsigned long shmmni;
    unsigned long shmseg;
    unsigned long shmall;
    unsigned long __unused1;
    unsigned long __unused2;
    unsigned long __unused3;
    unsigned long __unused4;
};

/* SHM_INFO fills this (cast to struct shmid_ds *). */
struct shm_info {
    int used_ids;
    unsigned long shm_tot;
    unsigned long shm_rss;
    unsigned long shm_swp;
    unsigned long swap_attempts;
    unsigned long swap_successes;
};

int shmget(key_t key, size_t size, int flags);
void *shmat(int id, const void *addr, int flags);
int shmdt(const void *addr);
int shmctl(int id, int cmd, struct shmid_ds *buf);

#ifdef __cplusplus
}
#endif

#endif

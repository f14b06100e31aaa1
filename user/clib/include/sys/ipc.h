/* sys/ipc.h: System V IPC keys, flags and struct ipc_perm (Linux aarch64 layout,
 * abi/src/shm.rs). Only shared memory (sys/shm.h) is implemented: no message queues or
 * semaphore sets. */
#ifndef _NX_SYS_IPC_H
#define _NX_SYS_IPC_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPC_PRIVATE ((key_t)0)
#define IPC_CREAT 01000
#define IPC_EXCL 02000
#define IPC_NOWAIT 04000

#define IPC_RMID 0
#define IPC_SET 1
#define IPC_STAT 2
#define IPC_INFO 3
/* glibc ORs this into shmctl's command for the 64-bit layouts; accepted and ignored. */
#define IPC_64 0x0100

struct ipc_perm {
    key_t __key;
    uid_t uid;
    gid_t gid;
    uid_t cuid;
    gid_t cgid;
    mode_t mode;
    unsigned short __seq;
    unsigned short __pad2;
    unsigned long __unused1;
    unsigned long __unused2;
};

/* A key from a path's inode and device and the low 8 bits of id (glibc's formula). */
key_t ftok(const char *path, int id);

#ifdef __cplusplus
}
#endif

#endif

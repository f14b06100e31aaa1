/* linux/futex.h: futex operations and structures as the kernel has them (abi/src/sys.rs).
 * Futexes are keyed by the word's physical address, so processes that map the same shared
 * memory at different addresses meet; FUTEX_PRIVATE_FLAG is accepted and changes nothing.
 * Call them with syscall(SYS_futex, uaddr, op, val, timeout) (sys/syscall.h), or with
 * futex_wait()/futex_wake() from <sys/futex.h>. Other operations are ENOSYS. */
#ifndef _NX_LINUX_FUTEX_H
#define _NX_LINUX_FUTEX_H

#include <stdint.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)

/* Robust futexes (set_robust_list): the lock word holds the owner's pid. */
#define FUTEX_WAITERS 0x80000000
#define FUTEX_OWNER_DIED 0x40000000
#define FUTEX_TID_MASK 0x3fffffff
#define ROBUST_LIST_LIMIT 2048

struct robust_list {
    struct robust_list *next;
};

struct robust_list_head {
    struct robust_list list;
    long futex_offset;
    struct robust_list *list_op_pending;
};

/* futex_waitv (syscall 449): wait on up to FUTEX_WAITV_MAX words at once. */
#define FUTEX_WAITV_MAX 128
#define FUTEX2_SIZE_U8 0x00
#define FUTEX2_SIZE_U16 0x01
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_SIZE_U64 0x03
#define FUTEX2_NUMA 0x04
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG

struct futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};

#endif

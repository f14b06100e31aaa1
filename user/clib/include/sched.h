/* sched.h: scheduling. The kernel has fixed priorities 1..255 (higher runs first; spawned
 * programs inherit their parent's, 100 at boot) and shares the CPU among equal priorities
 * in 20 ms slices: every process is SCHED_RR, and sched_priority is the kernel's priority.
 * Only root may raise a priority (EPERM); sched_setscheduler takes SCHED_RR only (EINVAL). */
#ifndef _NX_SCHED_H
#define _NX_SCHED_H
#define _SCHED_H_
#define _SYS_SCHED_H_

#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCHED_OTHER 0
#define SCHED_FIFO 1
#define SCHED_RR 2

struct sched_param {
    int sched_priority;
};

int sched_yield(void);
int sched_get_priority_max(int policy);
int sched_get_priority_min(int policy);
int sched_getparam(pid_t pid, struct sched_param *param);
int sched_setparam(pid_t pid, const struct sched_param *param);
int sched_getscheduler(pid_t pid);
int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param);
int sched_rr_get_interval(pid_t pid, struct timespec *interval);

#ifdef __cplusplus
}
#endif

#endif

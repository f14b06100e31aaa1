/* Scheduling over the kernel's priorities (1..255, higher first, round-robin among equals:
 * SCHED_RR for every process) and getpriority/setpriority on a pid (0: the caller). */
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>

#include "nx.h"

#define PRIO_MIN_ 1
#define PRIO_MAX_ 255

int sched_yield(void)
{
    return __nx_ret(__nx_sys0(SYS_sched_yield));
}

int sched_get_priority_max(int policy)
{
    return policy == SCHED_RR ? PRIO_MAX_ : (int)__nx_fail(EINVAL);
}

int sched_get_priority_min(int policy)
{
    return policy == SCHED_RR ? PRIO_MIN_ : (int)__nx_fail(EINVAL);
}

int sched_getparam(pid_t pid, struct sched_param *param)
{
    long p = __nx_ret(__nx_sys2(SYS_getpriority, 0, pid));
    if (p < 0)
        return -1;
    param->sched_priority = (int)p;
    return 0;
}

int sched_setparam(pid_t pid, const struct sched_param *param)
{
    if (param->sched_priority < PRIO_MIN_ || param->sched_priority > PRIO_MAX_)
        return (int)__nx_fail(EINVAL);
    return __nx_ret(__nx_sys3(SYS_setpriority, 0, pid, param->sched_priority));
}

int sched_getscheduler(pid_t pid)
{
    struct sched_param p;
    return sched_getparam(pid, &p) < 0 ? -1 : SCHED_RR;
}

/* Only SCHED_RR exists; returns the previous policy (SCHED_RR). */
int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
    if (policy != SCHED_RR)
        return (int)__nx_fail(EINVAL);
    return sched_setparam(pid, param) < 0 ? -1 : SCHED_RR;
}

/* Equal priorities share the CPU in 20 ms slices. */
int sched_rr_get_interval(pid_t pid, struct timespec *interval)
{
    struct sched_param p;
    if (sched_getparam(pid, &p) < 0)
        return -1;
    interval->tv_sec = 0;
    interval->tv_nsec = 20000000;
    return 0;
}

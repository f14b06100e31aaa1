/* time.h: picolibc's, with Linux's clock ids and TIMER_ABSTIME (picolibc has newlib's:
 * CLOCK_MONOTONIC 4, TIMER_ABSTIME 4). The kernel keeps CLOCK_REALTIME and CLOCK_MONOTONIC;
 * the runtime reads CLOCK_MONOTONIC_RAW, _COARSE and CLOCK_BOOTTIME as CLOCK_MONOTONIC and
 * CLOCK_REALTIME_COARSE as CLOCK_REALTIME (nothing here slews or suspends); the CPU-time
 * clocks are EINVAL. Per-process timers (timer_create) are not provided. */
#ifndef _NX_TIME_H
#define _NX_TIME_H

#include <sys/types.h>
#include_next <time.h>

#undef TIMER_ABSTIME
#undef CLOCK_REALTIME
#undef CLOCK_MONOTONIC
#undef CLOCK_PROCESS_CPUTIME_ID
#undef CLOCK_THREAD_CPUTIME_ID
#undef CLOCK_MONOTONIC_RAW
#undef CLOCK_REALTIME_COARSE
#undef CLOCK_MONOTONIC_COARSE
#undef CLOCK_BOOTTIME
#undef CLOCK_REALTIME_ALARM
#undef CLOCK_BOOTTIME_ALARM
#undef CLOCK_TAI

#define TIMER_ABSTIME 1
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

#ifdef __cplusplus
extern "C" {
#endif
/* Declared here whatever picolibc's feature macros say. */
int clock_gettime(clockid_t clock_id, struct timespec *tp);
int clock_getres(clockid_t clock_id, struct timespec *res);
int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *rqtp,
                    struct timespec *rmtp);
int nanosleep(const struct timespec *rqtp, struct timespec *rmtp);
#ifdef __cplusplus
}
#endif

#endif

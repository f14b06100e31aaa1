/* sys/sched.h: the same as sched.h. */
#include <sched.h>

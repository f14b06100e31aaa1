/* sys/errno.h: the same as errno.h (Linux values). */
#include <errno.h>

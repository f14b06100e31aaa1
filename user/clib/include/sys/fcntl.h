/* sys/fcntl.h: the same as fcntl.h. */
#include <fcntl.h>

/* sys/unistd.h: the same as unistd.h. */
#include <unistd.h>

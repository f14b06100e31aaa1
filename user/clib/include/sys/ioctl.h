/* sys/ioctl.h: the console's requests (abi/src/sys.rs). Anything else, and any request on
 * another kind of file, is ENOTTY. */
#ifndef _NX_SYS_IOCTL_H
#define _NX_SYS_IOCTL_H

#ifdef __cplusplus
extern "C" {
#endif

#define TIOCSCTTY 0x540E
#define TIOCGPGRP 0x540F
#define TIOCSPGRP 0x5410

int ioctl(int fd, unsigned long request, ...);

#ifdef __cplusplus
}
#endif

#endif

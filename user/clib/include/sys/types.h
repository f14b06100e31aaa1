/* sys/types.h: picolibc's, with the types the kernel's structures use at Linux's sizes
 * where picolibc's differ: key_t and clockid_t are int (picolibc: long), nlink_t is
 * unsigned int (picolibc: unsigned short). */
#ifndef _NX_SYS_TYPES_H
#define _NX_SYS_TYPES_H

#ifndef _KEY_T_DECLARED
typedef int key_t;
#define _KEY_T_DECLARED
#endif
#if !defined(__clockid_t_defined) && !defined(_CLOCKID_T_DECLARED)
typedef int clockid_t;
#define __clockid_t_defined
#define _CLOCKID_T_DECLARED
#endif
#ifndef _NLINK_T_DECLARED
typedef unsigned int nlink_t;
#define _NLINK_T_DECLARED
#endif

#include_next <sys/types.h>

#endif

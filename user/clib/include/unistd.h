/* unistd.h: the POSIX calls this kernel offers (shadows picolibc's, which declares every
 * call newlib knows). There is no fork or exec: start programs with posix_spawn (spawn.h).
 * Errors are -1 with errno set to the kernel's (Linux) value. */
#ifndef _NX_UNISTD_H
#define _NX_UNISTD_H
#define _UNISTD_H_
#define _SYS_UNISTD_H

#include <sys/types.h>
#define __need_size_t
#define __need_NULL
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define _POSIX_VERSION 200809L
#define _POSIX2_VERSION 200809L
#define _XOPEN_VERSION 700
#define _POSIX_SHARED_MEMORY_OBJECTS 200809L
#define _POSIX_MAPPED_FILES 200809L
#define _POSIX_MEMORY_PROTECTION 200809L
#define _POSIX_SPAWN 200809L
#define _POSIX_MONOTONIC_CLOCK 200809L
#define _POSIX_CLOCK_SELECTION 200809L
#define _POSIX_PRIORITY_SCHEDULING 200809L
#define _POSIX_REALTIME_SIGNALS -1
#define _POSIX_THREADS -1
#define _POSIX_SAVED_IDS -1
#define _POSIX_JOB_CONTROL -1

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif

#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4
int access(const char *path, int mode);

/* sysconf() names (glibc's numbers for the ones answered; others are EINVAL). */
#define _SC_ARG_MAX 0
#define _SC_CHILD_MAX 1
#define _SC_CLK_TCK 2
#define _SC_NGROUPS_MAX 3
#define _SC_OPEN_MAX 4
#define _SC_STREAM_MAX 5
#define _SC_TZNAME_MAX 6
#define _SC_JOB_CONTROL 7
#define _SC_SAVED_IDS 8
#define _SC_REALTIME_SIGNALS 9
#define _SC_PRIORITY_SCHEDULING 10
#define _SC_TIMERS 11
#define _SC_MAPPED_FILES 16
#define _SC_MEMORY_PROTECTION 19
#define _SC_SHARED_MEMORY_OBJECTS 22
#define _SC_VERSION 29
#define _SC_PAGESIZE 30
#define _SC_PAGE_SIZE _SC_PAGESIZE
#define _SC_RTSIG_MAX 31
#define _SC_SIGQUEUE_MAX 34
#define _SC_LINE_MAX 43
#define _SC_MONOTONIC_CLOCK 149
#define _SC_SPAWN 159
#define _SC_NPROCESSORS_CONF 83
#define _SC_NPROCESSORS_ONLN 84
#define _SC_PHYS_PAGES 85
#define _SC_AVPHYS_PAGES 86

/* Files and descriptors. */
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
ssize_t pread(int fd, void *buf, size_t n, off_t off);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
off_t lseek(int fd, off_t off, int whence);
int close(int fd);
int dup(int fd);
int dup2(int fd, int fd2);
int dup3(int fd, int fd2, int flags);
int pipe(int fds[2]);
int pipe2(int fds[2], int flags);
int ftruncate(int fd, off_t len);
int isatty(int fd);
int unlink(const char *path);
int unlinkat(int dirfd, const char *path, int flags);
int rmdir(const char *path);
int chdir(const char *path);
char *getcwd(char *buf, size_t size);
int fsync(int fd);
int fdatasync(int fd);

/* Processes. */
_Noreturn void _exit(int status);
pid_t getpid(void);
pid_t getppid(void);
uid_t getuid(void);
uid_t geteuid(void);
gid_t getgid(void);
gid_t getegid(void);
int setuid(uid_t uid);
int setgid(gid_t gid);
pid_t getsid(pid_t pid);
pid_t setsid(void);
/* The console's foreground process (the kernel has no process groups: a pid). */
pid_t tcgetpgrp(int fd);
int tcsetpgrp(int fd, pid_t pgrp);

/* Time. */
unsigned sleep(unsigned seconds);
int usleep(useconds_t usec);
/* Waits for a signal handler to run (a nanosleep that only a signal ends). */
int pause(void);

/* Memory. */
void *sbrk(intptr_t increment);
int brk(void *addr);
int getpagesize(void);
long sysconf(int name);

/* Any syscall by number (sys/syscall.h), for example futex: -1 and errno on failure. */
long syscall(long number, ...);

/* ENOSYS: no entropy source in the kernel yet (so arc4random() cannot work either). */
int getentropy(void *buf, size_t len);

/* getopt, from picolibc. */
extern char *optarg;
extern int optind, opterr, optopt;
int getopt(int argc, char *const argv[], const char *optstring);

#ifdef __cplusplus
}
#endif

#endif

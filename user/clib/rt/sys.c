/* The POSIX calls over the kernel's syscalls (numbers in sys/syscall.h, Linux aarch64's):
 * files and descriptors, processes, time, memory. Each returns -1 with errno (a Linux
 * value) on failure, as C programs expect. Also the pieces picolibc's libc.a leaves to the
 * system: read, write, open, close, lseek, fstat, stat, isatty, unlink, getpid, kill (in
 * signal.c), gettimeofday, times, sbrk, getentropy, _exit (in start.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "nx.h"

/* The layouts the kernel copies must be Linux's (abi/src/stat.rs). */
_Static_assert(sizeof(struct stat) == 128, "struct stat");
_Static_assert(offsetof(struct stat, st_size) == 48, "st_size");
_Static_assert(offsetof(struct stat, st_mtim) == 88, "st_mtim");
_Static_assert(sizeof(struct timespec) == 16, "timespec");

/* ---- Files and descriptors ---- */

ssize_t read(int fd, void *buf, size_t n)
{
    return __nx_ret(__nx_sys3(SYS_read, fd, buf, n));
}

ssize_t write(int fd, const void *buf, size_t n)
{
    return __nx_ret(__nx_sys3(SYS_write, fd, buf, n));
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    return __nx_ret(__nx_sys4(SYS_pread64, fd, buf, n, off));
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return __nx_ret(__nx_sys4(SYS_pwrite64, fd, buf, n, off));
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
    return __nx_ret(__nx_sys3(SYS_readv, fd, iov, n));
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    return __nx_ret(__nx_sys3(SYS_writev, fd, iov, n));
}

off_t lseek(int fd, off_t off, int whence)
{
    return __nx_ret(__nx_sys3(SYS_lseek, fd, off, whence));
}

int close(int fd)
{
    return __nx_ret(__nx_sys1(SYS_close, fd));
}

/* openat with Linux's flags (fcntl.h); the mode is read only when a file may be created. */
int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return __nx_ret(__nx_sys4(SYS_openat, dirfd, path, flags, mode));
}

/* open() as fcntl.h declares it: Linux's flags. */
int __nx_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return __nx_ret(__nx_sys4(SYS_openat, AT_FDCWD, path, flags, mode));
}

/* newlib's open flags (picolibc's sys/_default_fcntl.h), which picolibc's own fopen,
 * freopen and mkstemp pass to the plain `open` symbol. O_CREAT, O_TRUNC and O_APPEND have
 * Linux's values there; the others differ. */
#define NL_ACCMODE 0x3
#define NL_CREAT 0x0040
#define NL_TRUNC 0x0200
#define NL_APPEND 0x0400
#define NL_EXCL 0x0800
#define NL_SYNC 0x2000
#define NL_NONBLOCK 0x4000
#define NL_NOCTTY 0x8000
#define NL_BINARY 0x10000
#define NL_TEXT 0x20000
#define NL_CLOEXEC 0x40000
#define NL_DIRECT 0x80000
#define NL_NOFOLLOW 0x100000
#define NL_DIRECTORY 0x200000

/* The plain `open` symbol, for picolibc's callers: newlib's flags, translated; a flag with
 * no Linux equivalent is EINVAL. (Programs that include fcntl.h call __nx_open: the name
 * `open` in C is that one, so this is defined under another and given the symbol.) */
int __nx_open_newlib(const char *path, int nl, ...) __asm__("open");
int __nx_open_newlib(const char *path, int nl, ...)
{
    static const struct {
        int nl, lx;
    } map[] = {
        {NL_CREAT, O_CREAT},       {NL_TRUNC, O_TRUNC},       {NL_APPEND, O_APPEND},
        {NL_EXCL, O_EXCL},         {NL_SYNC, O_SYNC},         {NL_NONBLOCK, O_NONBLOCK},
        {NL_NOCTTY, O_NOCTTY},     {NL_CLOEXEC, O_CLOEXEC},   {NL_DIRECT, O_DIRECT},
        {NL_NOFOLLOW, O_NOFOLLOW}, {NL_DIRECTORY, O_DIRECTORY}, {NL_BINARY, 0},
        {NL_TEXT, 0},
    };
    int flags = nl & NL_ACCMODE, rest = nl & ~NL_ACCMODE;
    mode_t mode = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (rest & map[i].nl) {
            flags |= map[i].lx;
            rest &= ~map[i].nl;
        }
    }
    if (rest)
        return __nx_fail(EINVAL);
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, nl);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return __nx_ret(__nx_sys4(SYS_openat, AT_FDCWD, path, flags, mode));
}

int creat(const char *path, mode_t mode)
{
    return __nx_open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int fcntl(int fd, int cmd, ...)
{
    long arg = 0;
    va_list ap;
    va_start(ap, cmd);
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
    case F_SETFD:
    case F_SETFL:
    case F_ADD_SEALS:
        arg = va_arg(ap, int);
        break;
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
        arg = (long)va_arg(ap, void *);
        break;
    default:
        break;
    }
    va_end(ap);
    return __nx_ret(__nx_sys3(SYS_fcntl, fd, cmd, arg));
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return __nx_ret(__nx_sys3(SYS_ioctl, fd, request, arg));
}

int dup(int fd)
{
    return __nx_ret(__nx_sys1(SYS_dup, fd));
}

int dup2(int fd, int fd2)
{
    if (fd == fd2) /* dup3 refuses this; dup2 checks fd and returns it */
        return fcntl(fd, F_GETFD) < 0 ? -1 : fd;
    return __nx_ret(__nx_sys3(SYS_dup3, fd, fd2, 0));
}

int dup3(int fd, int fd2, int flags)
{
    return __nx_ret(__nx_sys3(SYS_dup3, fd, fd2, flags));
}

int pipe2(int fds[2], int flags)
{
    return __nx_ret(__nx_sys2(SYS_pipe2, fds, flags));
}

int pipe(int fds[2])
{
    return pipe2(fds, 0);
}

int ftruncate(int fd, off_t len)
{
    return __nx_ret(__nx_sys2(SYS_ftruncate, fd, len));
}

/* A terminal is what answers the console's TIOCGPGRP. */
int isatty(int fd)
{
    int pgrp;
    if (__nx_ret(__nx_sys3(SYS_ioctl, fd, TIOCGPGRP, &pgrp)) < 0) {
        if (errno != EBADF)
            errno = ENOTTY;
        return 0;
    }
    return 1;
}

pid_t tcgetpgrp(int fd)
{
    pid_t pgrp;
    if (__nx_ret(__nx_sys3(SYS_ioctl, fd, TIOCGPGRP, &pgrp)) < 0)
        return -1;
    return pgrp;
}

int tcsetpgrp(int fd, pid_t pgrp)
{
    return __nx_ret(__nx_sys3(SYS_ioctl, fd, TIOCSPGRP, &pgrp));
}

int fstat(int fd, struct stat *st)
{
    return __nx_ret(__nx_sys2(SYS_fstat, fd, st));
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return __nx_ret(__nx_sys4(SYS_newfstatat, dirfd, path, st, flags));
}

/* access: from stat's mode bits and the caller's uid and gid (the kernel has no access
 * call); root may read and write anything and execute what anyone may. */
int access(const char *path, int mode)
{
    struct stat st;
    if (mode & ~(R_OK | W_OK | X_OK))
        return (int)__nx_fail(EINVAL);
    if (stat(path, &st) < 0)
        return -1;
    if (mode == F_OK)
        return 0;
    uid_t uid = getuid();
    unsigned bits;
    if (uid == 0)
        bits = R_OK | W_OK | ((st.st_mode & 0111) ? X_OK : 0);
    else if (st.st_uid == uid)
        bits = (st.st_mode >> 6) & 7;
    else if (st.st_gid == getgid())
        bits = (st.st_mode >> 3) & 7;
    else
        bits = st.st_mode & 7;
    if (((unsigned)mode & bits) != (unsigned)mode)
        return (int)__nx_fail(EACCES);
    return 0;
}

int stat(const char *path, struct stat *st)
{
    return fstatat(AT_FDCWD, path, st, 0);
}

/* There are no symbolic links. */
int lstat(const char *path, struct stat *st)
{
    return fstatat(AT_FDCWD, path, st, 0);
}

mode_t umask(mode_t mask)
{
    return (mode_t)__nx_sys1(SYS_umask, mask);
}

int unlinkat(int dirfd, const char *path, int flags)
{
    return __nx_ret(__nx_sys3(SYS_unlinkat, dirfd, path, flags));
}

int unlink(const char *path)
{
    return unlinkat(AT_FDCWD, path, 0);
}

int rmdir(const char *path)
{
    return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

int chdir(const char *path)
{
    return __nx_ret(__nx_sys1(SYS_chdir, path));
}

/* getcwd(NULL, 0) allocates the buffer, as glibc's does. */
char *getcwd(char *buf, size_t size)
{
    char *mine = NULL;
    if (!buf) {
        if (size == 0)
            size = PATH_MAX;
        buf = mine = malloc(size);
        if (!buf)
            return NULL;
    }
    if (__nx_ret(__nx_sys2(SYS_getcwd, buf, size)) < 0) {
        free(mine);
        return NULL;
    }
    return buf;
}

/* Nothing is cached between a write and the memory or device it reaches. */
int fsync(int fd)
{
    return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

int fdatasync(int fd)
{
    return fsync(fd);
}

/* ---- Processes ---- */

pid_t getpid(void)
{
    return (pid_t)__nx_sys0(SYS_getpid);
}

pid_t getppid(void)
{
    return (pid_t)__nx_sys0(SYS_getppid);
}

uid_t getuid(void)
{
    return (uid_t)__nx_sys0(SYS_getuid);
}

uid_t geteuid(void)
{
    return (uid_t)__nx_sys0(SYS_geteuid);
}

gid_t getgid(void)
{
    return (gid_t)__nx_sys0(SYS_getgid);
}

gid_t getegid(void)
{
    return (gid_t)__nx_sys0(SYS_getegid);
}

int setuid(uid_t uid)
{
    return __nx_ret(__nx_sys1(SYS_setuid, uid));
}

int setgid(gid_t gid)
{
    return __nx_ret(__nx_sys1(SYS_setgid, gid));
}

pid_t getsid(pid_t pid)
{
    return __nx_ret(__nx_sys1(SYS_getsid, pid));
}

pid_t setsid(void)
{
    return __nx_ret(__nx_sys0(SYS_setsid));
}

/* No shell to run a command with. */
int system(const char *cmd)
{
    if (!cmd)
        return 0;
    errno = ENOSYS;
    return -1;
}

/* ---- Time ---- */

/* The kernel keeps CLOCK_REALTIME and CLOCK_MONOTONIC; the others that mean the same thing
 * here are read as those. */
static clockid_t kernel_clock(clockid_t id)
{
    switch (id) {
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        return CLOCK_MONOTONIC;
    case CLOCK_REALTIME_COARSE:
        return CLOCK_REALTIME;
    default:
        return id;
    }
}

int clock_gettime(clockid_t id, struct timespec *tp)
{
    return __nx_ret(__nx_sys2(SYS_clock_gettime, kernel_clock(id), tp));
}

/* Both clocks count the generic timer (CNTFRQ_EL0 ticks a second). */
int clock_getres(clockid_t id, struct timespec *res)
{
    struct timespec now;
    if (clock_gettime(id, &now) < 0)
        return -1;
    if (res) {
        uint64_t frq;
        __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frq));
        res->tv_sec = 0;
        res->tv_nsec = frq ? (long)((1000000000ull + frq - 1) / frq) : 1;
    }
    return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    return __nx_ret(__nx_sys2(SYS_nanosleep, req, rem));
}

/* Returns the error number (POSIX), not -1. */
int clock_nanosleep(clockid_t id, int flags, const struct timespec *req, struct timespec *rem)
{
    return __nx_err(__nx_sys4(SYS_clock_nanosleep, kernel_clock(id), flags, req, rem));
}

int gettimeofday(struct timeval *__restrict tv, void *__restrict tz)
{
    (void)tz;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return -1;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

/* The kernel does not account CPU time: times() (and so picolibc's clock()) says so. */
clock_t times(struct tms *buf)
{
    (void)buf;
    errno = ENOSYS;
    return (clock_t)-1;
}

unsigned sleep(unsigned seconds)
{
    struct timespec req = {.tv_sec = seconds, .tv_nsec = 0}, rem = {0, 0};
    if (nanosleep(&req, &rem) < 0 && errno == EINTR)
        return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
    return 0;
}

int usleep(useconds_t usec)
{
    struct timespec req = {.tv_sec = usec / 1000000, .tv_nsec = (long)(usec % 1000000) * 1000};
    return nanosleep(&req, NULL);
}

/* Sleep until a signal handler has run: -1 with EINTR. */
int pause(void)
{
    struct timespec forever = {.tv_sec = INT32_MAX, .tv_nsec = 0};
    while (nanosleep(&forever, NULL) == 0 || errno != EINTR)
        ;
    return -1;
}

/* ---- Memory ---- */

static uintptr_t cur_brk;

int brk(void *addr)
{
    uintptr_t got = (uintptr_t)__nx_sys1(SYS_brk, addr);
    cur_brk = got;
    return got == (uintptr_t)addr ? 0 : (int)__nx_fail(ENOMEM);
}

/* The heap grows from abi::layout::USER_HEAP with brk (picolibc's malloc calls this). */
void *sbrk(intptr_t incr)
{
    if (!cur_brk)
        cur_brk = (uintptr_t)__nx_sys1(SYS_brk, 0);
    uintptr_t old = cur_brk;
    if (incr == 0)
        return (void *)old;
    uintptr_t want = old + (uintptr_t)incr;
    if ((incr > 0 && want < old) || (incr < 0 && want > old))
        return (void *)(long)__nx_fail(ENOMEM);
    uintptr_t got = (uintptr_t)__nx_sys1(SYS_brk, want);
    cur_brk = got;
    if (got != want)
        return (void *)(long)__nx_fail(ENOMEM);
    return (void *)old;
}

int getpagesize(void)
{
    return 4096;
}

/* The kernel's MemInfo (abi::sys::MemInfo): page counts for _SC_PHYS_PAGES. */
struct nx_meminfo {
    uint64_t page_size, pages_total, pages_used, pages_free, rest[12];
};

long sysconf(int name)
{
    struct nx_meminfo m;
    switch (name) {
    case _SC_PAGESIZE:
        return 4096;
    case _SC_ARG_MAX:
        return 512; /* abi::sys::ARG_MAX */
    case _SC_CHILD_MAX:
        return 64; /* tasks, system-wide */
    case _SC_OPEN_MAX:
        return 16; /* descriptors per process */
    case _SC_CLK_TCK:
        return 100;
    case _SC_STREAM_MAX:
        return 16;
    case _SC_NGROUPS_MAX:
        return 0;
    case _SC_LINE_MAX:
        return 2048;
    case _SC_TZNAME_MAX:
        return 6;
    case _SC_NPROCESSORS_CONF:
    case _SC_NPROCESSORS_ONLN:
        return 1;
    case _SC_PHYS_PAGES:
    case _SC_AVPHYS_PAGES:
        if (__nx_ret(__nx_sys2(SYS_meminfo, &m, 0)) < 0)
            return -1;
        return (long)(name == _SC_PHYS_PAGES ? m.pages_total : m.pages_free);
    case _SC_VERSION:
    case _SC_MAPPED_FILES:
    case _SC_MEMORY_PROTECTION:
    case _SC_SHARED_MEMORY_OBJECTS:
    case _SC_MONOTONIC_CLOCK:
    case _SC_PRIORITY_SCHEDULING:
    case _SC_SPAWN:
        return 200809L;
    case _SC_JOB_CONTROL:
    case _SC_SAVED_IDS:
    case _SC_REALTIME_SIGNALS:
    case _SC_TIMERS:
        return -1; /* not supported; errno unchanged */
    default:
        return __nx_fail(EINVAL);
    }
}

/* syscall(number, ...): up to six arguments; -1 and errno on failure. */
long syscall(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    return __nx_ret(__nx_syscall6(n, a, b, c, d, e, f));
}

/* The kernel has no entropy call yet. */
int getentropy(void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return (int)__nx_fail(ENOSYS);
}

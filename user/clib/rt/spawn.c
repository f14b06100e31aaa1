/* posix_spawn over the kernel's spawn call, and waitpid over wait4.
 *
 * spawn(path, path_len, args, args_len, actions, n_actions) takes the arguments as
 * NUL-separated strings (argv[0] first, at most 512 bytes and 64 strings) and a list of
 * descriptor actions (abi::sys::SpawnAction: {fd, newfd}: newfd becomes a duplicate of fd,
 * or with fd == -1 is closed), applied in order to the child's copy of the parent's table
 * before the FD_CLOEXEC descriptors are dropped. addopen is done here: the parent opens the
 * file with O_CLOEXEC (so the child does not keep that number) and the action list puts it
 * at the asked number. See spawn.h for the attributes. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nx.h"

#define ARG_MAX_ 512
#define OPEN_MAX_ 16

enum { ACT_DUP2 = 1, ACT_CLOSE = 2, ACT_OPEN = 3 };

struct kaction {
    int fd;
    int newfd;
};

/* abi::sys: actions that carry attributes, applied by the kernel to the child only. */
#define KACT_SETMASK_LO (-2)
#define KACT_SETMASK_HI (-3)
#define KACT_SETPRIO (-4)

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
    memset(fa, 0, sizeof *fa);
    return 0;
}

int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
    for (int i = 0; i < fa->__count; i++)
        free(fa->__actions[i].path);
    fa->__count = 0;
    return 0;
}

static struct __nx_spawn_action *add(posix_spawn_file_actions_t *fa, int kind, int fd,
                                     int newfd, int *err)
{
    if (fd < 0 || fd >= OPEN_MAX_ || newfd < 0 || newfd >= OPEN_MAX_) {
        *err = EBADF;
        return NULL;
    }
    if (fa->__count == __NX_SPAWN_ACTIONS) {
        *err = ENOMEM;
        return NULL;
    }
    struct __nx_spawn_action *a = &fa->__actions[fa->__count++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->fd = fd;
    a->newfd = newfd;
    *err = 0;
    return a;
}

int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
    int err;
    add(fa, ACT_DUP2, fd, newfd, &err);
    return err;
}

int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
    int err;
    add(fa, ACT_CLOSE, fd, fd, &err);
    return err;
}

int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *__restrict fa, int fd,
                                     const char *__restrict path, int oflag, mode_t mode)
{
    int err;
    char *copy = strdup(path);
    if (!copy)
        return ENOMEM;
    struct __nx_spawn_action *a = add(fa, ACT_OPEN, fd, fd, &err);
    if (!a) {
        free(copy);
        return err;
    }
    a->path = copy;
    a->oflag = oflag;
    a->mode = mode;
    return 0;
}

/* The kernel's spawn cannot change the child's directory. */
int posix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *__restrict fa,
                                      const char *__restrict path)
{
    (void)fa;
    (void)path;
    return ENOSYS;
}

int posix_spawn_file_actions_addfchdir(posix_spawn_file_actions_t *fa, int fd)
{
    (void)fa;
    (void)fd;
    return ENOSYS;
}

#define ALL_FLAGS                                                                              \
    (POSIX_SPAWN_RESETIDS | POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |                    \
     POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER |           \
     POSIX_SPAWN_USEVFORK | POSIX_SPAWN_SETSID)

int posix_spawnattr_init(posix_spawnattr_t *attr)
{
    memset(attr, 0, sizeof *attr);
    attr->__policy = SCHED_RR;
    return 0;
}

int posix_spawnattr_destroy(posix_spawnattr_t *attr)
{
    (void)attr;
    return 0;
}

int posix_spawnattr_getflags(const posix_spawnattr_t *__restrict attr, short *__restrict flags)
{
    *flags = attr->__flags;
    return 0;
}

int posix_spawnattr_setflags(posix_spawnattr_t *attr, short flags)
{
    if (flags & ~ALL_FLAGS)
        return EINVAL;
    attr->__flags = flags;
    return 0;
}

int posix_spawnattr_getpgroup(const posix_spawnattr_t *__restrict attr, pid_t *__restrict pgroup)
{
    *pgroup = attr->__pgroup;
    return 0;
}

int posix_spawnattr_setpgroup(posix_spawnattr_t *attr, pid_t pgroup)
{
    attr->__pgroup = pgroup;
    return 0;
}

int posix_spawnattr_getsigdefault(const posix_spawnattr_t *__restrict attr,
                                  sigset_t *__restrict sigdefault)
{
    *sigdefault = attr->__sigdefault;
    return 0;
}

int posix_spawnattr_setsigdefault(posix_spawnattr_t *__restrict attr,
                                  const sigset_t *__restrict sigdefault)
{
    attr->__sigdefault = *sigdefault;
    return 0;
}

int posix_spawnattr_getsigmask(const posix_spawnattr_t *__restrict attr,
                               sigset_t *__restrict sigmask)
{
    *sigmask = attr->__sigmask;
    return 0;
}

int posix_spawnattr_setsigmask(posix_spawnattr_t *__restrict attr,
                               const sigset_t *__restrict sigmask)
{
    attr->__sigmask = *sigmask;
    return 0;
}

int posix_spawnattr_getschedparam(const posix_spawnattr_t *__restrict attr,
                                  struct sched_param *__restrict param)
{
    *param = attr->__param;
    return 0;
}

int posix_spawnattr_setschedparam(posix_spawnattr_t *__restrict attr,
                                  const struct sched_param *__restrict param)
{
    attr->__param = *param;
    return 0;
}

int posix_spawnattr_getschedpolicy(const posix_spawnattr_t *__restrict attr,
                                   int *__restrict policy)
{
    *policy = attr->__policy;
    return 0;
}

int posix_spawnattr_setschedpolicy(posix_spawnattr_t *attr, int policy)
{
    attr->__policy = policy;
    return 0;
}

/* Does an action name descriptor `fd`? */
static int named(const posix_spawn_file_actions_t *fa, int fd)
{
    for (int i = 0; fa && i < fa->__count; i++)
        if (fa->__actions[i].fd == fd || fa->__actions[i].newfd == fd)
            return 1;
    return 0;
}

/* For SETSIGDEF: a signal the parent ignores is caught by this for the moment of the spawn
 * (a caught signal starts out default in the child); one arriving meanwhile is dropped, as
 * the parent's SIG_IGN would have. */
static void drop(int sig)
{
    (void)sig;
}

struct spawn_state {
    int temps[__NX_SPAWN_ACTIONS];
    int ntemps;
    sigset_t ignored; /* switched from SIG_IGN to `drop` */
};

static void undo(struct spawn_state *st)
{
    for (int i = 0; i < st->ntemps; i++)
        close(st->temps[i]);
    for (int sig = 1; sig <= 64; sig++) {
        if (st->ignored & ((sigset_t)1 << (sig - 1)))
            signal(sig, SIG_IGN);
    }
}

/* Open an addopen action's file at a number no action names (O_CLOEXEC: the child keeps
 * only the copy its dup2 action makes). Returns the descriptor or -1 with errno. */
static int open_temp(const posix_spawn_file_actions_t *fa, const struct __nx_spawn_action *a)
{
    int fd = open(a->path, a->oflag | O_CLOEXEC, a->mode);
    if (fd < 0 || !named(fa, fd))
        return fd;
    /* F_DUPFD gives the lowest free number at or above `low`, which may be named too:
     * keep moving up until it is not. */
    for (int low = 0;;) {
        while (named(fa, low))
            low++;
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, low);
        if (moved < 0 || !named(fa, moved)) {
            int e = errno;
            close(fd);
            errno = e;
            return moved;
        }
        close(moved);
        low = moved + 1;
    }
}

static int spawn(pid_t *pidp, const char *path, const posix_spawn_file_actions_t *fa,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    short flags = attr ? attr->__flags : 0;
    char args[ARG_MAX_];
    size_t alen = 0;
    struct kaction acts[__NX_SPAWN_ACTIONS + 3];
    int nacts = 0;
    struct spawn_state st;
    memset(&st, 0, sizeof st);

    if (envp && envp[0])
        return ENOSYS; /* no environment to pass */
    if (flags & (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSCHEDULER | POSIX_SPAWN_SETSID))
        return ENOSYS;
    if (flags & POSIX_SPAWN_SETSCHEDPARAM) {
        struct sched_param mine;
        int want = attr->__param.sched_priority;
        if (want < sched_get_priority_min(SCHED_RR) || want > sched_get_priority_max(SCHED_RR))
            return EINVAL;
        if (sched_getparam(0, &mine) < 0)
            return errno;
        if (want > mine.sched_priority && getuid() != 0)
            return EPERM; /* only root may raise a priority */
    }
    for (size_t i = 0; argv && argv[i]; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (n > sizeof args - alen)
            return E2BIG;
        memcpy(args + alen, argv[i], n);
        alen += n;
    }

    for (int i = 0; fa && i < fa->__count; i++) {
        const struct __nx_spawn_action *a = &fa->__actions[i];
        switch (a->kind) {
        case ACT_DUP2:
            acts[nacts++] = (struct kaction){a->fd, a->newfd};
            break;
        case ACT_CLOSE:
            acts[nacts++] = (struct kaction){-1, a->fd};
            break;
        case ACT_OPEN: {
            int fd = open_temp(fa, a);
            if (fd < 0) {
                int e = errno;
                undo(&st);
                return e;
            }
            st.temps[st.ntemps++] = fd;
            acts[nacts++] = (struct kaction){fd, a->fd};
            break;
        }
        default:
            undo(&st);
            return EINVAL;
        }
    }

    if (flags & POSIX_SPAWN_SETSIGDEF) {
        for (int sig = 1; sig <= 64; sig++) {
            struct sigaction old;
            if (sig == SIGKILL || sig == SIGSTOP ||
                !(attr->__sigdefault & ((sigset_t)1 << (sig - 1))))
                continue;
            if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN &&
                signal(sig, drop) != SIG_ERR)
                st.ignored |= (sigset_t)1 << (sig - 1);
        }
    }
    /* The kernel gives the child this mask and priority: the parent's own mask never
     * changes (a pending signal it blocks stays pending), and the child never runs at
     * another priority first. */
    if (flags & POSIX_SPAWN_SETSIGMASK) {
        uint64_t m = (uint64_t)attr->__sigmask;
        acts[nacts++] = (struct kaction){KACT_SETMASK_LO, (int)(uint32_t)m};
        acts[nacts++] = (struct kaction){KACT_SETMASK_HI, (int)(uint32_t)(m >> 32)};
    }
    if (flags & POSIX_SPAWN_SETSCHEDPARAM)
        acts[nacts++] = (struct kaction){KACT_SETPRIO, attr->__param.sched_priority};

    long r = __nx_sys6(SYS_spawn, path, strlen(path), args, alen, acts, nacts);
    undo(&st);
    if (r < 0)
        return (int)-r;
    pid_t pid = (pid_t)r;
    if (pidp)
        *pidp = pid;
    return 0;
}

/* `path` names a file: one without a slash is in the working directory. */
int posix_spawn(pid_t *__restrict pid, const char *__restrict path,
                const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *__restrict attrp,
                char *const argv[], char *const envp[])
{
    if (!strchr(path, '/')) {
        char rel[ARG_MAX_];
        size_t n = strlen(path);
        if (n + 3 > sizeof rel)
            return ENAMETOOLONG;
        memcpy(rel, "./", 2);
        memcpy(rel + 2, path, n + 1);
        return spawn(pid, rel, fa, attrp, argv, envp);
    }
    return spawn(pid, path, fa, attrp, argv, envp);
}

/* A name without a slash is looked up in /bin (the only directory of programs: PATH). */
int posix_spawnp(pid_t *__restrict pid, const char *__restrict file,
                 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *__restrict attrp,
                 char *const argv[], char *const envp[])
{
    return spawn(pid, file, fa, attrp, argv, envp);
}

/* No process groups (no setpgid: no child ever leaves its parent's), so 0 means any child. */
pid_t waitpid(pid_t pid, int *status, int options)
{
    if (pid == 0)
        pid = -1;
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED))
        return (pid_t)__nx_fail(EINVAL);
    return __nx_ret(__nx_sys4(SYS_wait4, pid, status, options & WNOHANG, NULL));
}

pid_t wait(int *status)
{
    return waitpid(-1, status, 0);
}

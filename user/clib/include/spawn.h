/* spawn.h: posix_spawn over the kernel's spawn call (a program of /bin: by name, or by a
 * path that resolves there). File actions: adddup2 and addclose are the kernel's own
 * actions; addopen opens the file in the parent when posix_spawn runs (relative paths
 * resolve against the parent's working directory, which the child inherits) and makes it
 * the child's descriptor with a dup2 action. At most 16 actions (addopen counts one).
 * addchdir and addfchdir are ENOSYS. Attributes: POSIX_SPAWN_SETSIGMASK,
 * POSIX_SPAWN_SETSIGDEF, POSIX_SPAWN_SETSCHEDPARAM (sched_priority is the kernel's
 * priority, 1..255; see sched.h) and POSIX_SPAWN_RESETIDS (a no-op: a process has one
 * uid) work; POSIX_SPAWN_SETPGROUP,
 * POSIX_SPAWN_SETSCHEDULER and POSIX_SPAWN_SETSID make posix_spawn fail with ENOSYS. There
 * is no environment: envp must be NULL or empty (ENOSYS otherwise). Errors are returned,
 * not put in errno. */
#ifndef _NX_SPAWN_H
#define _NX_SPAWN_H
#define _SPAWN_H_

#include <sys/types.h>
#include <signal.h>
#include <sched.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POSIX_SPAWN_RESETIDS 0x01
#define POSIX_SPAWN_SETPGROUP 0x02
#define POSIX_SPAWN_SETSIGDEF 0x04
#define POSIX_SPAWN_SETSIGMASK 0x08
#define POSIX_SPAWN_SETSCHEDPARAM 0x10
#define POSIX_SPAWN_SETSCHEDULER 0x20
#define POSIX_SPAWN_USEVFORK 0x40
#define POSIX_SPAWN_SETSID 0x80

/* File actions per posix_spawn_file_actions_t: the kernel takes 16 actions a spawn, and up
 * to 3 of them carry the attributes (signal mask, priority). */
#define __NX_SPAWN_ACTIONS 13

struct __nx_spawn_action {
    int kind; /* 1 dup2, 2 close, 3 open */
    int fd;
    int newfd;
    int oflag;
    mode_t mode;
    char *path; /* addopen's, copied with malloc; freed by _destroy */
};

typedef struct {
    int __count;
    struct __nx_spawn_action __actions[__NX_SPAWN_ACTIONS];
} posix_spawn_file_actions_t;

typedef struct {
    short __flags;
    pid_t __pgroup;
    sigset_t __sigdefault;
    sigset_t __sigmask;
    struct sched_param __param;
    int __policy;
} posix_spawnattr_t;

int posix_spawn(pid_t *__restrict pid, const char *__restrict path,
                const posix_spawn_file_actions_t *file_actions,
                const posix_spawnattr_t *__restrict attrp, char *const argv[],
                char *const envp[]);
int posix_spawnp(pid_t *__restrict pid, const char *__restrict file,
                 const posix_spawn_file_actions_t *file_actions,
                 const posix_spawnattr_t *__restrict attrp, char *const argv[],
                 char *const envp[]);

int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa);
int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa);
int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *__restrict fa, int fd,
                                     const char *__restrict path, int oflag, mode_t mode);
int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd);
int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd);
int posix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *__restrict fa,
                                      const char *__restrict path);
int posix_spawn_file_actions_addfchdir(posix_spawn_file_actions_t *fa, int fd);

int posix_spawnattr_init(posix_spawnattr_t *attr);
int posix_spawnattr_destroy(posix_spawnattr_t *attr);
int posix_spawnattr_getflags(const posix_spawnattr_t *__restrict attr, short *__restrict flags);
int posix_spawnattr_setflags(posix_spawnattr_t *attr, short flags);
int posix_spawnattr_getpgroup(const posix_spawnattr_t *__restrict attr,
                              pid_t *__restrict pgroup);
int posix_spawnattr_setpgroup(posix_spawnattr_t *attr, pid_t pgroup);
int posix_spawnattr_getsigdefault(const posix_spawnattr_t *__restrict attr,
                                  sigset_t *__restrict sigdefault);
int posix_spawnattr_setsigdefault(posix_spawnattr_t *__restrict attr,
                                  const sigset_t *__restrict sigdefault);
int posix_spawnattr_getsigmask(const posix_spawnattr_t *__restrict attr,
                               sigset_t *__restrict sigmask);
int posix_spawnattr_setsigmask(posix_spawnattr_t *__restrict attr,
                               const sigset_t *__restrict sigmask);
int posix_spawnattr_getschedparam(const posix_spawnattr_t *__restrict attr,
                                  struct sched_param *__restrict param);
int posix_spawnattr_setschedparam(posix_spawnattr_t *__restrict attr,
                                  const struct sched_param *__restrict param);
int posix_spawnattr_getschedpolicy(const posix_spawnattr_t *__restrict attr,
                                   int *__restrict policy);
int posix_spawnattr_setschedpolicy(posix_spawnattr_t *attr, int policy);

#ifdef __cplusplus
}
#endif

#endif

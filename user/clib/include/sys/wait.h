/* sys/wait.h: waitpid and the status macros (Linux encoding). The kernel has no process
 * groups (setpgid does not exist, so no child ever leaves its parent's): waitpid(0, ...)
 * waits for any child, as waitpid(-1, ...) does, and a pid below -1 is ECHILD. Nothing
 * stops or continues, so WUNTRACED and WCONTINUED report nothing more; WNOWAIT is EINVAL. */
#ifndef _NX_SYS_WAIT_H
#define _NX_SYS_WAIT_H
#define _SYS_WAIT_H

#include <sys/types.h>
#include <signal.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WNOHANG 1
#define WUNTRACED 2
#define WSTOPPED WUNTRACED
#define WEXITED 4
#define WCONTINUED 8
#define WNOWAIT 0x01000000

#define WEXITSTATUS(s) (((s) & 0xff00) >> 8)
#define WTERMSIG(s) ((s) & 0x7f)
#define WSTOPSIG(s) WEXITSTATUS(s)
#define WIFEXITED(s) (WTERMSIG(s) == 0)
#define WIFSTOPPED(s) (((s) & 0xff) == 0x7f)
#define WIFSIGNALED(s) (((s) & 0xffff) - 1U < 0xffu)
#define WIFCONTINUED(s) ((s) == 0xffff)
#define WCOREDUMP(s) ((s) & 0x80)

pid_t wait(int *status);
pid_t waitpid(pid_t pid, int *status, int options);

#ifdef __cplusplus
}
#endif

#endif

/* ctest: checks of the C runtime on the target, one line per case, then
 * "ctest: N passed, M failed"; the exit status is the number failed.
 *
 *   ctest [PATTERN]     only the cases whose name contains PATTERN
 *
 * It covers what the runtime adds to picolibc: stdio streams and formatting, the syscall
 * layer and errno, signals, posix_spawn with file actions, POSIX and System V shared memory,
 * futexes, semaphores, scheduling, and the shared-memory libraries' C functions. It spawns
 * hello_c, and itself for the cross-process semaphore case. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <l4shmc.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <shmheap.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/futex.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;
static const char *pattern;
static char why[256];

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            snprintf(why, sizeof why, "line %d: %s (errno %d)", __LINE__, #cond, errno);       \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)

static void run(const char *name, int (*f)(void))
{
    if (pattern && !strstr(name, pattern))
        return;
    why[0] = 0;
    if (f() == 0) {
        passed++;
        printf("ok   %s\n", name);
    } else {
        failed++;
        printf("FAIL %s: %s\n", name, why);
    }
}

static int t_printf(void)
{
    char b[128];
    snprintf(b, sizeof b, "%lld %llu %zu %jd %x %#o %5.2f|%-4s|%c%%", -9000000000LL,
             18000000000000000000ULL, (size_t)42, (intmax_t)-7, 0xbeefu, 8u, 3.14159, "ab", 'z');
    CHECK(strcmp(b, "-9000000000 18000000000000000000 42 -7 beef 010  3.14|ab  |z%") == 0);
    snprintf(b, sizeof b, "%e %g %.0f %a", 12345.678, 0.0001, 2.5, 1.0);
    CHECK(strcmp(b, "1.234568e+04 0.0001 2 0x1p+0") == 0);
    const char *volatile longer = "truncated";
    CHECK(snprintf(b, 4, "%s", longer) == 9 && strcmp(b, "tru") == 0);
    snprintf(b, sizeof b, "%p", (void *)0x1234);
    CHECK(strcmp(b, "0x1234") == 0);
    snprintf(b, sizeof b, "%" PRIu64 " %" PRIx32, UINT64_MAX, UINT32_MAX);
    CHECK(strcmp(b, "18446744073709551615 ffffffff") == 0);
    return 0;
}

static int t_scan_convert(void)
{
    int i;
    double d;
    char s[16];
    CHECK(sscanf("17 2.5 word", "%d %lf %15s", &i, &d, s) == 3);
    CHECK(i == 17 && d == 2.5 && strcmp(s, "word") == 0);
    CHECK(strtol("-0x1f", NULL, 16) == -31 && atoi("123") == 123);
    errno = 0;
    CHECK(strtol("99999999999999999999", NULL, 10) == LONG_MAX && errno == ERANGE);
    CHECK(fabs(strtod("1e-3", NULL) - 0.001) < 1e-12);
    CHECK(fabs(sin(M_PI / 2) - 1.0) < 1e-12 && fabs(pow(2.0, 10) - 1024.0) < 1e-9);
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static int t_stdlib(void)
{
    int v[] = {5, 3, 9, 1, 7};
    qsort(v, 5, sizeof v[0], cmp_int);
    CHECK(v[0] == 1 && v[4] == 9);
    int key = 7;
    CHECK(bsearch(&key, v, 5, sizeof v[0], cmp_int) == &v[3]);
    char *p = calloc(1000, 1);
    CHECK(p && p[999] == 0);
    p = realloc(p, 100000);
    CHECK(p && p[999] == 0);
    free(p);
    p = malloc(16 << 20);
    CHECK(p);
    memset(p, 1, 16 << 20);
    free(p);
    errno = 0;
    CHECK(malloc((size_t)8 << 30) == NULL && errno == ENOMEM);
    return 0;
}

static jmp_buf jb;

static void jump(int n)
{
    longjmp(jb, n);
}

static int t_setjmp(void)
{
    volatile int count = 0;
    int r = setjmp(jb);
    if (r == 0) {
        count++;
        jump(5);
    }
    CHECK(r == 5 && count == 1);
    return 0;
}

static int t_errno(void)
{
    errno = 0;
    CHECK(open("/no/such", O_RDONLY) == -1 && errno == ENOENT);
    CHECK(close(-1) == -1 && errno == EBADF);
    CHECK(lseek(0, 0, SEEK_SET) == -1 && errno == ESPIPE);
    CHECK(syscall(4000) == -1 && errno == ENOSYS);
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1 && errno == EINVAL);
    CHECK(open("/bin/hello", O_WRONLY) == -1 && errno == EROFS);
    CHECK(ENOSYS == 38 && ETIMEDOUT == 110 && EOWNERDEAD == 130 && EWOULDBLOCK == EAGAIN);
    CHECK(strcmp(strerror(ENOSYS), "Function not implemented") == 0);
    CHECK(strcmp(strerror(EHWPOISON), "Memory page has hardware error") == 0);
    CHECK(strcmp(strerror(9999), "Unknown error 9999") == 0);
    char b[8];
    CHECK(strerror_r(ENOENT, b, sizeof b) == ERANGE && strcmp(b, "No such") == 0);
    CHECK(strcmp(strsignal(SIGSEGV), "Segmentation fault") == 0);
    return 0;
}

/* What the headers name but the kernel does not do is an error, never a hang. */
static int t_unsupported(void)
{
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK(madvise(p, 4096, MADV_DONTNEED) == -1 && errno == EINVAL);
    CHECK(munmap(p, 4096) == 0);
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    CHECK(id >= 0 && shmat(id, NULL, SHM_REMAP) == (void *)-1 && errno == EINVAL);
    CHECK(shmat(id, NULL, SHM_EXEC) == (void *)-1 && errno == EINVAL);
    CHECK(shmctl(id, SHM_LOCK, NULL) == -1 && errno == EINVAL);
    CHECK(shmctl(id, IPC_RMID, NULL) == 0);
    CHECK(open("/dev/shm", O_TMPFILE | O_RDWR, 0600) == -1 && errno == EINVAL);
    struct flock fl = {.l_type = F_WRLCK};
    CHECK(fcntl(1, F_SETLK, &fl) == -1 && errno == EINVAL);
    stack_t ss = {.ss_sp = p, .ss_size = 8192, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == -1 && errno == ENOSYS);
    char b[16];
    CHECK(getentropy(b, sizeof b) == -1 && errno == ENOSYS);
    CHECK(system("ls") == -1 && errno == ENOSYS);
    CHECK(sysconf(12345) == -1 && errno == EINVAL);
    return 0;
}

static int t_files(void)
{
    int fds[2];
    char b[32];
    CHECK(pipe(fds) == 0);
    CHECK(write(fds[1], "pipe!", 5) == 5 && read(fds[0], b, sizeof b) == 5);
    CHECK(memcmp(b, "pipe!", 5) == 0);
    CHECK(isatty(fds[0]) == 0 && errno == ENOTTY && isatty(0) == 1);
    CHECK(fcntl(fds[0], F_GETFD) == 0 && fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0);
    CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
    int d = dup2(fds[1], 9);
    CHECK(d == 9 && dup2(9, 9) == 9);
    FILE *f = fdopen(9, "w");
    CHECK(f && fprintf(f, "via %s %d", "stdio", 42) == 12 && fclose(f) == 0);
    CHECK(read(fds[0], b, sizeof b) == 12 && memcmp(b, "via stdio 42", 12) == 0);
    struct stat st;
    CHECK(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK(close(fds[0]) == 0 && close(fds[1]) == 0);
    CHECK(stat("/bin/hello_c", &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 1000);
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    char cwd[64];
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
    CHECK(chdir("/dev") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/dev") == 0);
    CHECK(open("null", O_WRONLY) >= 0);
    CHECK(chdir("/") == 0);
    FILE *r = fopen("/bin/hello_c", "r");
    CHECK(r && fread(b, 1, 4, r) == 4 && memcmp(b, "\177ELF", 4) == 0 && fclose(r) == 0);
    CHECK(fopen("/no/such", "r") == NULL && errno == ENOENT);
    CHECK(sysconf(_SC_PAGESIZE) == 4096 && getpagesize() == 4096);
    /* picolibc's mkstemp opens with newlib's O_EXCL: the runtime's `open` translates it. */
    char tmpl[] = "/dev/shm/ctXXXXXX";
    int fd = mkstemp(tmpl);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0);
    CHECK(open(tmpl, O_CREAT | O_EXCL | O_RDWR, 0600) == -1 && errno == EEXIST);
    CHECK(unlink(tmpl) == 0);
    return 0;
}

static int t_time(void)
{
    struct timespec a, b, req = {0, 20 * 1000 * 1000}, res;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    CHECK(nanosleep(&req, NULL) == 0);
    CHECK(clock_gettime(CLOCK_BOOTTIME, &b) == 0);
    long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    snprintf(why, sizeof why, "slept %ld ns", ns);
    CHECK(ns >= 20 * 1000 * 1000 && ns < 2000L * 1000 * 1000);
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
    /* With an RTC (QEMU virt's PL031) the host's date; without one (a Raspberry Pi) the
       clock counts from 0 at power-on, as the monotonic clock does. */
    time_t now = time(NULL);
    struct timespec mono;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &mono) == 0);
    long long drift = (long long)now - (long long)mono.tv_sec;
    snprintf(why, sizeof why, "time %lld, monotonic %lld s", (long long)now,
             (long long)mono.tv_sec);
    CHECK(now > 1600000000 || (now < 1000000000 && drift >= -1 && drift <= 1));
    struct tm tm;
    char buf[64];
    time_t t0 = 86400 * 365;
    CHECK(gmtime_r(&t0, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm) > 0);
    CHECK(strcmp(buf, "1971-01-01 00:00") == 0);
    struct timespec until;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &until) == 0);
    until.tv_nsec += 5 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0);
    CHECK(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req, NULL) == EINVAL);
    CHECK(usleep(1000) == 0 && sleep(0) == 0);
    CHECK(clock() == (clock_t)-1); /* no CPU-time accounting */
    return 0;
}

static volatile sig_atomic_t got_sig, got_pid, got_code;
static volatile double fp_in_handler;

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_pid = info->si_pid;
    got_code = info->si_code;
    volatile double x = 0.25;
    fp_in_handler = x * 8.0; /* clobbers FP registers */
}

static void on_usr2(int sig)
{
    got_sig = sig;
}

static int t_signals(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, &old) == 0 && old.sa_handler == SIG_DFL);
    volatile double keep = 1.25;
    CHECK(raise(SIGUSR1) == 0);
    CHECK(got_sig == SIGUSR1 && got_pid == getpid() && got_code == SI_USER);
    CHECK(fp_in_handler == 2.0 && keep == 1.25);

    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK(signal(SIGUSR2, on_usr2) == SIG_DFL);
    got_sig = 0;
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0 && kill(getpid(), SIGUSR2) == 0);
    CHECK(got_sig == 0 && sigpending(&pend) == 0 && sigismember(&pend, SIGUSR2) == 1);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0 && got_sig == SIGUSR2);

    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_ONSTACK;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == -1 && errno == EINVAL);
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
    CHECK(signal(SIGCHLD, SIG_DFL) == on_usr2);
    CHECK(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL);
    CHECK(sigaddset(&set, 65) == -1 && errno == EINVAL);
    CHECK(signal(SIGUSR1, SIG_DFL) != SIG_ERR && signal(SIGUSR2, SIG_DFL) == on_usr2);
    CHECK(sigsuspend(&set) == -1 && errno == ENOSYS);
    return 0;
}

/* Run hello_c with `args`, its stdout into a pipe; returns its wait status, output in b. */
static int spawn_hello(const char *prog, int use_p, char *const argv[], char *b, size_t n)
{
    int fds[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (pipe(fds) < 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    int e = use_p ? posix_spawnp(&pid, prog, &fa, NULL, argv, NULL)
                  : posix_spawn(&pid, prog, &fa, NULL, argv, NULL);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e) {
        close(fds[0]);
        errno = e;
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fds[0], b + got, n - 1 - got)) > 0)
        got += (size_t)r;
    b[got] = 0;
    close(fds[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static int t_spawn(void)
{
    static char out[2048];
    char *argv[] = {"hello_c", "a", "b c", NULL};
    int st = spawn_hello("/bin/hello_c", 0, argv, out, sizeof out);
    CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2);
    CHECK(strstr(out, "argv[2]=\"b c\"") && strstr(out, "exit() flushes this"));
    CHECK(strstr(out, "perror: Permission denied\n"));
    /* Not a terminal: stdout was fully buffered, and still everything came out in order. */
    CHECK(strstr(out, "malloc/free: ok") < strstr(out, "exit status 2"));
    st = spawn_hello("hello_c", 1, argv, out, sizeof out);
    CHECK(st >= 0 && WEXITSTATUS(st) == 2);

    pid_t pid;
    CHECK(posix_spawn(&pid, "/bin/none", NULL, NULL, argv, NULL) == ENOENT);
    CHECK(posix_spawn(&pid, "hello_c", NULL, NULL, argv, NULL) == ENOENT); /* ./hello_c */
    char *envp[] = {"A=1", NULL};
    CHECK(posix_spawnp(&pid, "hello_c", NULL, NULL, argv, envp) == ENOSYS);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    CHECK(posix_spawn_file_actions_addchdir(&fa, "/") == ENOSYS);
    CHECK(posix_spawn_file_actions_adddup2(&fa, -1, 1) == EBADF);
    CHECK(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) == 0);
    CHECK(posix_spawn_file_actions_adddup2(&fa, 1, 2) == 0);
    CHECK(posix_spawnp(&pid, "hello_c", &fa, NULL, argv, NULL) == 0);
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 2);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawn_file_actions_init(&fa);
    CHECK(posix_spawn_file_actions_addopen(&fa, 1, "/no/such", O_RDONLY, 0) == 0);
    CHECK(posix_spawnp(&pid, "hello_c", &fa, NULL, argv, NULL) == ENOENT);
    posix_spawn_file_actions_destroy(&fa);

    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    CHECK(posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP) == 0);
    CHECK(posix_spawnp(&pid, "hello_c", NULL, &at, argv, NULL) == ENOSYS);
    struct sched_param sp = {.sched_priority = 90};
    posix_spawnattr_setschedparam(&at, &sp);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &none);
    CHECK(posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) == 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    CHECK(posix_spawnp(&pid, "hello_c", &fa, &at, argv, NULL) == 0);
    CHECK(sched_getparam(pid, &sp) == 0 && sp.sched_priority == 90);
    CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 2);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
    CHECK(waitpid(-1, &st, WNOWAIT) == -1 && errno == EINVAL);
    return 0;
}

static int t_posix_shm(void)
{
    shm_unlink("/ctest");
    int fd = shm_open("/ctest", O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 8192) == 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 8192);
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    strcpy(p + 4096, "shared line\n");
    CHECK(munmap(p, 8192) == 0 && close(fd) == 0);
    FILE *f = fopen("/dev/shm/ctest", "r");
    char line[32];
    CHECK(f && fseek(f, 4096, SEEK_SET) == 0 && fgets(line, sizeof line, f));
    CHECK(strcmp(line, "shared line\n") == 0 && fclose(f) == 0);
    f = fopen("/dev/shm/ctest", "a");
    CHECK(f && fprintf(f, "appended") == 8 && fclose(f) == 0);
    fd = shm_open("/ctest", O_RDONLY, 0);
    CHECK(fd >= 0 && pread(fd, line, 8, 8192) == 8 && memcmp(line, "appended", 8) == 0);
    CHECK(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
          errno == EACCES);
    CHECK(close(fd) == 0 && shm_unlink("/ctest") == 0);
    CHECK(shm_unlink("/ctest") == -1 && errno == ENOENT);
    CHECK(shm_open("bad/name", O_RDWR | O_CREAT, 0600) == -1 && errno == EINVAL);

    fd = shm_open(SHM_ANON, O_RDWR, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 4096) == 0 && close(fd) == 0);
    fd = memfd_create("ctest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0);
    CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK));
    CHECK(ftruncate(fd, 8192) == -1 && errno == EPERM);
    CHECK(close(fd) == 0);
    p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED && p[5000] == 0);
    p[5000] = 1;
    CHECK(mprotect(p, 4096, PROT_READ) == 0 && munmap(p, 3 * 4096) == 0);
    return 0;
}

static int t_sysv_shm(void)
{
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    CHECK(id >= 0);
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    strcpy(p, "sysv");
    struct shmid_ds ds;
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz == 10000 && ds.shm_nattch == 1);
    CHECK(ds.shm_cpid == getpid() && (ds.shm_perm.mode & 0777) == 0600);
    CHECK(ds.shm_perm.uid == getuid());
    char *q = shmat(id, NULL, SHM_RDONLY);
    CHECK(q != (void *)-1 && strcmp(q, "sysv") == 0);
    CHECK(shmdt(q) == 0 && shmdt(p) == 0);
    CHECK(shmctl(id, IPC_RMID, NULL) == 0);
    CHECK(shmat(id, NULL, 0) == (void *)-1 && errno == EINVAL);
    CHECK(shmget(0x7e57, 0, 0) == -1 && errno == ENOENT);
    struct shminfo info;
    CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0 && info.shmmax == 64 << 20);
    return 0;
}

static int t_futex(void)
{
    static volatile uint32_t word = 7;
    struct timespec t = {0, 10 * 1000 * 1000};
    CHECK(futex_wait(&word, 8, NULL) == -1 && errno == EAGAIN);
    CHECK(futex_wait(&word, 7, &t) == -1 && errno == ETIMEDOUT);
    CHECK(futex_wake(&word, 1) == 0);
    CHECK(syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0);
    CHECK(syscall(SYS_futex, &word, 9, 0, NULL, NULL, 0) == -1 && errno == ENOSYS);
    struct robust_list_head head = {{&head.list}, 0, NULL};
    CHECK(set_robust_list(&head, sizeof head) == 0);
    return 0;
}

static int t_sched(void)
{
    struct sched_param sp;
    CHECK(sched_getparam(0, &sp) == 0 && sp.sched_priority == 100);
    CHECK(sched_getscheduler(0) == SCHED_RR && sched_get_priority_max(SCHED_RR) == 255);
    CHECK(sched_get_priority_min(SCHED_FIFO) == -1 && errno == EINVAL);
    CHECK(sched_yield() == 0);
    sp.sched_priority = 99;
    CHECK(sched_setparam(0, &sp) == 0);
    sp.sched_priority = 100;
    CHECK(sched_setparam(0, &sp) == 0); /* root may raise it back */
    return 0;
}

static int t_l4shmc(void)
{
    l4shmc_area_t area;
    l4shmc_chunk_t chunk;
    l4shmc_signal_t sig;
    l4shmc_unlink("ctest");
    CHECK(l4shmc_create("ctest", 16384) == 0);
    CHECK(l4shmc_attach("ctest", &area) == 0 && l4shmc_get_client_nr(&area) == 0);
    CHECK(l4shmc_add_chunk(&area, "data", 1024, &chunk) == 0);
    CHECK(l4shmc_add_signal(&area, "ready", &sig) == 0);
    const char *nm = NULL;
    long it = l4shmc_iterate_chunk(&area, &nm, 0);
    CHECK(it > 0 && nm != NULL && strcmp(nm, "data") == 0);
    CHECK(l4shmc_iterate_chunk(&area, &nm, it) == 0);
    CHECK(l4shmc_connect_chunk_signal(&chunk, &sig) == 0);
    CHECK(l4shmc_chunk_try_to_take(&chunk) == 0);
    memcpy(l4shmc_chunk_ptr(&chunk), "chunk", 6);
    CHECK(l4shmc_chunk_ready_sig(&chunk, 6) == 0);
    CHECK(l4shmc_wait_chunk_try(&chunk) == 0 && l4shmc_chunk_size(&chunk) == 6);
    CHECK(strcmp(l4shmc_chunk_ptr(&chunk), "chunk") == 0);
    CHECK(l4shmc_chunk_consumed(&chunk) == 0 && l4shmc_is_chunk_clear(&chunk) == 1);
    CHECK(l4shmc_wait_signal_try(&sig) == -ETIMEDOUT);
    CHECK(l4shmc_add_chunk(&area, "a-name-too-long-", 8, &chunk) == -EINVAL);
    CHECK(l4shmc_detach(&area) == 0 && l4shmc_unlink("ctest") == 0);
    return 0;
}

static int t_shmheap(void)
{
    shmheap_destroy("/ctheap", (shmheap_memory_handle){0, 0});
    shmheap_memory_handle h = shmheap_create("/ctheap", 16384);
    CHECK(h.base != NULL);
    char *p = shmheap_alloc(h, 100);
    CHECK(p && ((uintptr_t)p & 15) == 0);
    strcpy(p, "heap");
    shmheap_object_handle o = shmheap_ptr_to_handle(h, p);
    CHECK(o.offset != 0 && shmheap_handle_to_ptr(h, o) == p);
    CHECK(shmheap_alloc(h, 1 << 20) == NULL && shmheap_errno() == ENOMEM);
    shmheap_free(h, p);
    shmheap_free(h, p);
    CHECK(shmheap_errno() == EINVAL);
    shmheap_memory_handle h2 = shmheap_connect("/ctheap");
    CHECK(h2.base != NULL && h2.base != h.base);
    shmheap_disconnect(h2);
    shmheap_destroy("/ctheap", h);
    CHECK(shmheap_connect("/ctheap").base == NULL && shmheap_errno() == ENOENT);
    return 0;
}

/* Semaphores: unnamed in this process, and named across processes (a child posts). */
static int t_semaphore(void)
{
    sem_t s;
    int v;
    CHECK(sem_init(&s, 0, 2) == 0 && sem_trywait(&s) == 0 && sem_wait(&s) == 0);
    CHECK(sem_trywait(&s) == -1 && errno == EAGAIN);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 10 * 1000 * 1000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    CHECK(sem_timedwait(&s, &t) == -1 && errno == ETIMEDOUT);
    CHECK(sem_post(&s) == 0 && sem_getvalue(&s, &v) == 0 && v == 1 && sem_destroy(&s) == 0);

    sem_unlink("/ctsem");
    sem_t *n = sem_open("/ctsem", O_CREAT | O_EXCL, 0600, 0);
    CHECK(n != SEM_FAILED);
    CHECK(sem_open("/ctsem", O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST);
    pid_t pid;
    char *argv[] = {"ctest", "--sem-post", "/ctsem", NULL};
    CHECK(posix_spawnp(&pid, "ctest", NULL, NULL, argv, NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += 10;
    CHECK(sem_clockwait(n, CLOCK_MONOTONIC, &t) == 0); /* the child's post */
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(sem_getvalue(n, &v) == 0 && v == 0);
    CHECK(sem_close(n) == 0 && sem_unlink("/ctsem") == 0);
    CHECK(sem_open("/ctsem", 0) == SEM_FAILED && errno == ENOENT);
    return 0;
}

/* ctest --abort ign|catch|block: abort() ends the process with SIGABRT whatever it did. */
static void on_abrt(int s)
{
    (void)s;
}

static int abort_child(const char *how)
{
    if (strcmp(how, "ign") == 0) {
        signal(SIGABRT, SIG_IGN);
    } else if (strcmp(how, "catch") == 0) {
        signal(SIGABRT, on_abrt);
    } else {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGABRT);
        sigprocmask(SIG_BLOCK, &s, NULL);
    }
    abort();
}

/* ctest --fdkind FD: 0 if FD is a regular file. */
static int fdkind_child(const char *fd)
{
    struct stat st;
    return fstat(atoi(fd), &st) == 0 && S_ISREG(st.st_mode) ? 0 : 1;
}

/* Wait for `pid`; its status. */
static int reap(pid_t pid)
{
    int st = -1;
    return waitpid(pid, &st, 0) == pid ? st : -1;
}

/* The wait-status macros, abort(), spawn attributes that must not touch the parent,
 * addopen at a number other actions name, and access(). */
static int t_process(void)
{
    CHECK(WIFEXITED(3 << 8) && !WIFSTOPPED(3 << 8) && !WIFSIGNALED(3 << 8));
    CHECK(WIFSIGNALED(0x8b) && !WIFSTOPPED(0x8b) && WTERMSIG(0x8b) == 11 && WCOREDUMP(0x8b));
    CHECK(WIFSTOPPED(0x137f) && WSTOPSIG(0x137f) == 19 && !WIFEXITED(0x137f));
    CHECK(!WIFSTOPPED(0xffff) && WIFCONTINUED(0xffff) && !WIFSTOPPED(0xff00));

    const char *hows[] = {"ign", "catch", "block"};
    for (int i = 0; i < 3; i++) {
        char *av[] = {"ctest", "--abort", (char *)hows[i], NULL};
        pid_t pid;
        CHECK(posix_spawnp(&pid, "ctest", NULL, NULL, av, NULL) == 0);
        int st = reap(pid);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    }

    /* SETSIGMASK: a signal the parent blocks and has pending stays pending. */
    sigset_t term, old, pend;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    CHECK(sigprocmask(SIG_BLOCK, &term, &old) == 0);
    CHECK(raise(SIGTERM) == 0);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    char *hv[] = {"hello_c", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    CHECK(posix_spawnp(&pid, "hello_c", &fa, &at, hv, NULL) == 0);
    CHECK(WIFEXITED(reap(pid)));
    CHECK(sigpending(&pend) == 0 && sigismember(&pend, SIGTERM));
    signal(SIGTERM, SIG_IGN); /* discard it, then back to normal */
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    signal(SIGTERM, SIG_DFL);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);

    /* addopen at L (the lowest free number, where open puts the file here) while dup2
     * names L + 1 (the next free one): moving the file out of the way must skip both. */
    int low = open("/dev/null", O_RDONLY);
    CHECK(low >= 0 && low + 1 < 16 && close(low) == 0);
    char fdarg[8];
    snprintf(fdarg, sizeof fdarg, "%d", low);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 1, low + 1);
    posix_spawn_file_actions_addopen(&fa, low, "/bin/hello_c", O_RDONLY, 0);
    char *kv[] = {"ctest", "--fdkind", fdarg, NULL};
    CHECK(posix_spawnp(&pid, "ctest", &fa, NULL, kv, NULL) == 0);
    int st = reap(pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    posix_spawn_file_actions_destroy(&fa);

    CHECK(access("/bin/hello_c", F_OK) == 0 && access("/bin/hello_c", R_OK) == 0);
    CHECK(access("/no/such", F_OK) == -1 && errno == ENOENT);
    CHECK(access("/bin/hello_c", 8) == -1 && errno == EINVAL);
    return 0;
}

/* ctest --sem-post NAME: the child of the semaphore case. */
static int sem_child(const char *name)
{
    sem_t *n = sem_open(name, 0);
    if (n == SEM_FAILED)
        return 1;
    usleep(20000); /* let the parent block first */
    return sem_post(n) == 0 && sem_close(n) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--sem-post") == 0)
        return sem_child(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--abort") == 0)
        return abort_child(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--fdkind") == 0)
        return fdkind_child(argv[2]);
    pattern = argc > 1 ? argv[1] : NULL;
    run("printf", t_printf);
    run("scan_convert", t_scan_convert);
    run("stdlib", t_stdlib);
    run("setjmp", t_setjmp);
    run("errno", t_errno);
    run("unsupported", t_unsupported);
    run("files", t_files);
    run("time", t_time);
    run("signals", t_signals);
    run("spawn", t_spawn);
    run("posix_shm", t_posix_shm);
    run("sysv_shm", t_sysv_shm);
    run("futex", t_futex);
    run("semaphore", t_semaphore);
    run("sched", t_sched);
    run("l4shmc", t_l4shmc);
    run("shmheap", t_shmheap);
    run("process", t_process);
    printf("ctest: %d passed, %d failed\n", passed, failed);
    return failed;
}

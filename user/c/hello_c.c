/* hello_c: what a C programmer expects of the runtime, at the shell:
 *
 *   hello_c [ARGS...]
 *
 * prints its arguments, formats floating point (FP/SIMD registers and libm), allocates
 * and frees, shows errno, strerror and perror with the kernel's (Linux) numbers, runs a
 * constructor and an atexit handler, and exits with the number of arguments as its status,
 * its last words left unterminated in stdout's buffer for exit() to flush. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int constructed;

__attribute__((constructor)) static void before_main(void)
{
    constructed = 42;
}

/* Runs after main returns; what it leaves unterminated in stdout's buffer is printed only
 * if exit() flushes the streams. */
static void at_exit(void)
{
    printf("atexit handler ran; exit() flushes this");
}

/* Allocate, fill and check blocks of many sizes; free them in a scrambled order. */
static int heap_check(void)
{
    enum { N = 64 };
    unsigned char *blocks[N];
    size_t sizes[N];
    for (int i = 0; i < N; i++) {
        sizes[i] = (size_t)(i * 37 % 61 + 1) * (i % 4 == 0 ? 4096 : 16);
        blocks[i] = malloc(sizes[i]);
        if (!blocks[i])
            return -1;
        memset(blocks[i], i, sizes[i]);
    }
    for (int k = 0; k < N; k++) {
        int i = k * 29 % N;
        for (size_t j = 0; j < sizes[i]; j++)
            if (blocks[i][j] != (unsigned char)i)
                return -2;
        free(blocks[i]);
    }
    /* One large block, from brk. */
    char *big = malloc(4 << 20);
    if (!big)
        return -3;
    memset(big, 0x5a, 4 << 20);
    int ok = big[0] == 0x5a && big[(4 << 20) - 1] == 0x5a;
    free(big);
    return ok ? 0 : -4;
}

int main(int argc, char **argv)
{
    printf("hello from C, pid %d, constructor %s\n", (int)getpid(),
           constructed == 42 ? "ran" : "did NOT run");
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=\"%s\"\n", i, argv[i]);
    printf("argv[argc] is %s\n", argv[argc] ? "not NULL" : "NULL");

    volatile double r = 2.0;
    printf("float: %.3f %.6f %g %e\n", 3.14159265, sqrt(r), exp(1.0), 1.5e-7);
    printf("float sum: %.2f\n", (double)(0.1f + 0.2f) * 10.0);

    int h = heap_check();
    printf("malloc/free: %s\n", h == 0 ? "ok" : "FAILED");

    errno = 0;
    int fd = open("/no/such/file", O_RDONLY);
    int e = errno;
    printf("open: %d, errno %d (%s), %s\n", fd, e, e == ENOENT ? "ENOENT" : "?", strerror(e));
    printf("ENOSYS=%d ETIMEDOUT=%d EOWNERDEAD=%d: %s; %s\n", ENOSYS, ETIMEDOUT, EOWNERDEAD,
           strerror(ETIMEDOUT), strerror(EOWNERDEAD));
    long s = syscall(999);
    printf("syscall(999): %ld, errno %d (%s)\n", s, errno, errno == ENOSYS ? "ENOSYS" : "?");
    fflush(stdout);
    errno = EACCES;
    perror("perror");

    if (atexit(at_exit) != 0)
        printf("atexit FAILED\n");
    printf("exit status %d\n", argc - 1);
    return argc - 1;
}

/* crash_c [null|stack|bigframe|garbage]: a C program that misbehaves. `null` (the default)
 * writes through a NULL pointer, `stack` recurses past its stack and `bigframe` makes one
 * frame bigger than the stack's guard gap: the kernel kills it with its
 * one-line report (SIGSEGV) and takes its pages back; the shell reports status 139.
 * `garbage` calls the kernel with nonsense and must get errors back, never a hang. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

static int depth(volatile char *prev, int n)
{
    volatile char frame[4096];
    frame[0] = (char)n;
    frame[4095] = prev ? prev[0] : 0;
    return depth(frame, n + 1) + frame[1];
}

/* A frame far larger than the stack's guard gap, its low end written first (as code that
 * skips probes would). With a segment attached just below the gap, only the compiler's
 * stack probes (-fstack-clash-protection, which nx-cc passes) stop it landing there. */
static int bigframe(void)
{
    volatile char big[3 << 20];
    big[0] = 1;
    return big[0] + big[sizeof big - 1];
}

/* One raw call: print its result, and errno if it failed. */
static void call(const char *what, long nr, long a, long b, long c, long d)
{
    errno = 0;
    long r = syscall(nr, a, b, c, d, 0L, 0L);
    printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "null";
    volatile double x = 1.5; /* the FP registers are in use when it dies */
    if (strcmp(mode, "null") == 0) {
        printf("crash_c: writing to NULL (x = %.1f)\n", x);
        fflush(stdout);
        *(volatile int *)0 = 42;
    } else if (strcmp(mode, "stack") == 0) {
        printf("crash_c: recursing past the stack (x = %.1f)\n", x);
        fflush(stdout);
        return depth(NULL, 0);
    } else if (strcmp(mode, "bigframe") == 0) {
        int id = shmget(IPC_PRIVATE, 4 << 20, IPC_CREAT | 0600);
        void *seg = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
        if (id >= 0)
            shmctl(id, IPC_RMID, NULL);
        printf("crash_c: a 3 MiB frame, a segment at %p (x = %.1f)\n", seg, x);
        fflush(stdout);
        return bigframe();
    } else if (strcmp(mode, "garbage") == 0) {
        call("unknown call 4000", 4000, 1, 2, 3, 4);
        call("write from a kernel address", SYS_write, 1, (long)0xffff000000001000UL, 16, 0);
        call("read into NULL", SYS_read, 0, 0, 16, 0);
        call("shmat of id -1", SYS_shmat, -1, 0, 0, 0);
        call("mmap of 2^62 bytes", SYS_mmap, 0, 1L << 62, 3, 0x22);
        call("futex on a wild pointer", SYS_futex, 0x10, 0, 0, 0);
        call("close(-5)", SYS_close, -5, 0, 0, 0);
        printf("crash_c: still running\n");
        return 0;
    } else {
        fprintf(stderr, "usage: crash_c [null|stack|bigframe|garbage]\n");
        return 2;
    }
    printf("crash_c: still alive?\n");
    return 0;
}

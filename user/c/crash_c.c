/* crash_c: a C program that writes through a NULL pointer. The kernel kills it with its
 * one-line report (SIGSEGV) and takes its pages back; the shell reports status 139. */
#include <stdio.h>

int main(void)
{
    volatile double x = 1.5; /* the FP registers are in use when it dies */
    printf("crash_c: writing to NULL (x = %.1f)\n", x);
    fflush(stdout);
    *(volatile int *)0 = 42;
    printf("crash_c: still alive?\n");
    return 0;
}

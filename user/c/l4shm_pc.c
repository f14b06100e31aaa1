/* l4shm_pc: an L4SHM (l4shmc_*) producer and consumer in two processes.
 *
 *   l4shm_pc [N]                 send N messages (default 1000)
 *
 * The parent creates an area "l4pcPID" (l4shmc_create), attaches it as client 0, adds a
 * 512-byte chunk "data" and two signals, "ready" (connected to the chunk) and "free", and
 * spawns itself as the consumer with the area's name. The consumer attaches (client 1),
 * finds the chunk and the signals by name, connects the chunk to "ready" and marks itself
 * initialized; the producer starts once it sees the consumer's bit in the initialized-clients
 * mask, as L4Re's example does. Then, per message, the L4Re idiom: the producer takes the
 * chunk (CLEAR -> BUSY, waiting on "free" while it is not clear), writes message i (its
 * number, the text "message i", a pattern, a length that varies) and calls
 * l4shmc_chunk_ready_sig; the consumer waits on the chunk, checks the number, the length
 * and every byte, marks it consumed and triggers "free". Both report; the parent detaches
 * and unlinks the area. Exit status 0 when all N arrived in order and intact, 1 otherwise. */
#include <errno.h>
#include <l4shmc.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CAPACITY 512
#define WAIT_MS 1000   /* one wait; between waits the other side is checked */
#define DEADLINE_S 120 /* the whole run, generous for a loaded machine */

static const char *me = "l4shm_pc";
static char area_name[16]; /* the parent's area while it exists */

static void cleanup(void)
{
    if (area_name[0] && l4shmc_unlink(area_name) == 0)
        area_name[0] = 0;
}

/* An l4shmc result (0 or a negative errno) that is not 0 ends the program. */
static long check(long r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "%s: %s: %s\n", me, what, strerror((int)-r));
        exit(1);
    }
    return r;
}

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", me);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static time_t now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

/* Message `seq`: its number, then "message SEQ", then a pattern; the length varies. */
static size_t make(unsigned char *buf, uint32_t seq)
{
    memcpy(buf, &seq, 4);
    int t = snprintf((char *)buf + 4, CAPACITY - 4, "message %u", (unsigned)seq);
    size_t head = 4 + (size_t)t + 1;
    size_t len = head + (seq * 37) % (CAPACITY - head + 1);
    for (size_t k = head; k < len; k++)
        buf[k] = (unsigned char)(seq + k * 3);
    return len;
}

/* l4shm_pc consume AREA N */
static int consume(const char *name, long n)
{
    me = "l4shm_pc consumer";
    l4shmc_area_t area;
    l4shmc_chunk_t chunk;
    l4shmc_signal_t ready, freed;
    check(l4shmc_attach(name, &area), "attach");
    check(l4shmc_get_chunk_to(&area, "data", 5000, &chunk), "get chunk data");
    check(l4shmc_get_signal_to(&area, "ready", 5000, &ready), "get signal ready");
    check(l4shmc_get_signal_to(&area, "free", 5000, &freed), "get signal free");
    check(l4shmc_connect_chunk_signal(&chunk, &ready), "connect");
    long nr = check(l4shmc_get_client_nr(&area), "client number");
    check(l4shmc_mark_client_initialized(&area), "mark initialized");

    static unsigned char want[CAPACITY], got[CAPACITY];
    unsigned long bytes = 0;
    time_t end = now() + DEADLINE_S;
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        while (check(l4shmc_is_chunk_ready(&chunk), "is ready") == 0) {
            if (now() > end)
                fail("gave up waiting for message %u (after %d s)", (unsigned)i, DEADLINE_S);
            long r = l4shmc_wait_chunk_to(&chunk, WAIT_MS);
            if (r != -ETIMEDOUT)
                check(r, "wait chunk");
        }
        long size = check(l4shmc_chunk_size(&chunk), "chunk size");
        memcpy(got, l4shmc_chunk_ptr(&chunk), (size_t)size);
        check(l4shmc_chunk_consumed(&chunk), "consumed");
        check(l4shmc_trigger(&freed), "trigger free");
        size_t len = make(want, i);
        uint32_t seq;
        memcpy(&seq, got, 4);
        if (seq != i)
            fail("message %u arrived as number %u (out of order or lost)", (unsigned)i,
                 (unsigned)seq);
        if ((size_t)size != len || memcmp(got, want, len) != 0)
            fail("message %u damaged (%ld bytes, want %zu)", (unsigned)i, size, len);
        bytes += (unsigned long)size;
    }
    printf("consumer (pid %d, client %ld): %ld messages, %lu bytes, in order and intact\n",
           (int)getpid(), nr, n, bytes);
    check(l4shmc_detach(&area), "detach");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "consume") == 0)
        return consume(argv[2], strtol(argv[3], NULL, 0));
    long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000;
    if (argc > 2 || n < 1 || n > 1000000) {
        fprintf(stderr, "usage: l4shm_pc [N]   (1 <= N <= 1000000)\n");
        return 2;
    }

    atexit(cleanup);
    snprintf(area_name, sizeof area_name, "l4pc%d", (int)getpid());
    l4shmc_area_t area;
    l4shmc_chunk_t chunk;
    l4shmc_signal_t ready, freed;
    check(l4shmc_create(area_name, 16384), "create");
    check(l4shmc_attach(area_name, &area), "attach");
    check(l4shmc_add_chunk(&area, "data", CAPACITY, &chunk), "add chunk data");
    check(l4shmc_add_signal(&area, "ready", &ready), "add signal ready");
    check(l4shmc_add_signal(&area, "free", &freed), "add signal free");
    check(l4shmc_connect_chunk_signal(&chunk, &ready), "connect");
    printf("producer (pid %d, client %ld): area %s, %ld bytes, %ld free; chunk data, %ld bytes\n",
           (int)getpid(), l4shmc_get_client_nr(&area), area_name, l4shmc_area_size(&area),
           l4shmc_area_size_free(&area), l4shmc_chunk_capacity(&chunk));

    char count[24];
    snprintf(count, sizeof count, "%ld", n);
    char *args[] = {argv[0], "consume", area_name, count, NULL};
    pid_t child;
    int e = posix_spawnp(&child, argv[0], NULL, NULL, args, NULL);
    if (e) {
        fprintf(stderr, "%s: posix_spawnp: %s\n", me, strerror(e));
        return 1;
    }

    /* Start once the consumer has its chunk and signals (client 1's bit). */
    time_t end = now() + DEADLINE_S;
    int st;
    for (;;) {
        l4_umword_t mask = 0;
        check(l4shmc_get_initialized_clients(&area, &mask), "initialized clients");
        if (mask & 2)
            break;
        if (waitpid(child, &st, WNOHANG) == child)
            fail("the consumer ended before it was ready (wait status %#x)", (unsigned)st);
        if (now() > end)
            fail("the consumer never marked itself initialized");
        usleep(1000);
    }

    static unsigned char buf[CAPACITY];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        while (l4shmc_chunk_try_to_take(&chunk) != 0) {
            if (waitpid(child, &st, WNOHANG) == child)
                fail("the consumer ended early (wait status %#x) at message %u", (unsigned)st,
                     (unsigned)i);
            if (now() > end)
                fail("gave up waiting to send message %u (after %d s)", (unsigned)i, DEADLINE_S);
            long r = l4shmc_wait_signal_to(&freed, WAIT_MS);
            if (r != -ETIMEDOUT)
                check(r, "wait free");
        }
        size_t len = make(buf, i);
        memcpy(l4shmc_chunk_ptr(&chunk), buf, len);
        check(l4shmc_chunk_ready_sig(&chunk, len), "ready_sig");
    }
    if (waitpid(child, &st, 0) != child) {
        fprintf(stderr, "%s: waitpid: %s\n", me, strerror(errno));
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("the consumer failed (wait status %#x)", (unsigned)st);
    if (check(l4shmc_is_chunk_clear(&chunk), "is clear") != 1)
        fail("the last message was not consumed");
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("producer: %ld messages sent in %.3f s, all consumed; consumer exited 0\n", n, secs);
    check(l4shmc_detach(&area), "detach");
    check(l4shmc_unlink(area_name), "unlink");
    printf("producer: detached and unlinked %s\n", area_name);
    area_name[0] = 0;
    return 0;
}

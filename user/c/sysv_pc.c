/* sysv_pc: a System V shared-memory producer and consumer, two processes.
 *
 *   sysv_pc [N]                  send N messages (default 1000)
 *
 * The parent creates a private segment (shmget), attaches it (shmat) and spawns itself as
 * the consumer with the segment's id as an argument (posix_spawnp). The segment holds a
 * ring of 8 message slots and two futex words, `head` (messages written) and `tail`
 * (messages read): the producer waits on `tail` while the ring is full, the consumer on
 * `head` while it is empty, each with FUTEX_WAIT through syscall(2), and each wakes the other
 * with FUTEX_WAKE after moving its counter. Every message carries its number, a length that
 * varies, the text "message N", a pattern and a checksum; the consumer checks all of them
 * and the order, and prints a summary. Both detach; the parent checks the segment's
 * IPC_STAT fields, then removes it (IPC_RMID). Exit status 0 when everything arrived, 1
 * with a message on stderr otherwise. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 8
#define PAYLOAD 120
#define WAIT_MS 1000   /* one futex wait; between waits the other side is checked */
#define DEADLINE_S 120 /* the whole run, generous for a loaded machine */

struct msg {
    uint32_t seq;
    uint32_t len; /* bytes of data[] in use */
    uint32_t sum; /* FNV-1a of data[0..len] */
    uint32_t pad;
    unsigned char data[PAYLOAD];
};

struct ring {
    _Atomic uint32_t head; /* messages written: the consumer's futex word */
    _Atomic uint32_t tail; /* messages read: the producer's futex word */
    uint32_t count;        /* how many the producer will send */
    uint32_t pad;
    struct msg slot[SLOTS];
};

static const char *me = "sysv_pc";
static int seg_id = -1; /* the parent's segment, removed by cleanup() */
static pid_t child = -1;

static void cleanup(void)
{
    if (seg_id >= 0 && shmctl(seg_id, IPC_RMID, NULL) == 0)
        seg_id = -1;
}

static void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", me, what, strerror(errno));
    exit(1);
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

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

/* Message `seq`: "message SEQ", a NUL, then a pattern up to a length that varies. */
static void make(struct msg *m, uint32_t seq)
{
    int t = snprintf((char *)m->data, PAYLOAD, "message %u", (unsigned)seq);
    uint32_t len = (uint32_t)t + 1 + seq % (PAYLOAD - (uint32_t)t - 1);
    for (uint32_t k = (uint32_t)t + 1; k < len; k++)
        m->data[k] = (unsigned char)(seq * 7 + k);
    m->seq = seq;
    m->len = len;
    m->sum = fnv1a(m->data, len);
}

/* Is `m` exactly what make(seq) writes? */
static int intact(const struct msg *m, uint32_t seq)
{
    static struct msg want;
    make(&want, seq);
    return m->seq == seq && m->len == want.len && m->sum == want.sum &&
           memcmp(m->data, want.data, want.len) == 0;
}

/* Sleep while *word == val, at most WAIT_MS. A changed word (EAGAIN), a timeout or a
 * signal just returns: the caller looks again. */
static void wait_word(_Atomic uint32_t *word, uint32_t val)
{
    struct timespec ts = {WAIT_MS / 1000, (WAIT_MS % 1000) * 1000000L};
    if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, &ts, NULL, 0) == -1 &&
        errno != EAGAIN && errno != ETIMEDOUT && errno != EINTR)
        die("futex wait");
}

static void wake_word(_Atomic uint32_t *word)
{
    if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0) == -1)
        die("futex wake");
}

static time_t now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* sysv_pc consume ID: attach the segment by id and take every message in order. */
static int consume(int id)
{
    me = "sysv_pc consumer";
    struct ring *r = shmat(id, NULL, 0);
    if (r == (void *)-1)
        die("shmat");
    uint32_t n = r->count;
    uint32_t bytes = 0;
    time_t end = now() + DEADLINE_S;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h;
        while ((h = atomic_load_explicit(&r->head, memory_order_acquire)) == i) {
            if (now() > end)
                fail("gave up waiting for message %u (after %d s)", (unsigned)i, DEADLINE_S);
            wait_word(&r->head, h);
        }
        const struct msg *m = &r->slot[i % SLOTS];
        if (!intact(m, i))
            fail("message %u arrived damaged or out of order (seq %u)", (unsigned)i,
                 (unsigned)m->seq);
        bytes += m->len;
        atomic_store_explicit(&r->tail, i + 1, memory_order_release);
        wake_word(&r->tail);
    }
    printf("consumer (pid %d): %u messages, %u bytes, in order and intact\n", (int)getpid(),
           (unsigned)n, (unsigned)bytes);
    if (shmdt(r) == -1)
        die("shmdt");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "consume") == 0)
        return consume(atoi(argv[2]));
    long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000;
    if (argc > 2 || n < 1 || n > 1000000) {
        fprintf(stderr, "usage: sysv_pc [N]   (1 <= N <= 1000000)\n");
        return 2;
    }

    atexit(cleanup);
    seg_id = shmget(IPC_PRIVATE, sizeof(struct ring), IPC_CREAT | 0600);
    if (seg_id == -1)
        die("shmget");
    struct ring *r = shmat(seg_id, NULL, 0);
    if (r == (void *)-1)
        die("shmat");
    /* A new segment reads as zero: head = tail = 0. */
    r->count = (uint32_t)n;
    printf("producer (pid %d): segment %d, %zu bytes, %d slots\n", (int)getpid(), seg_id,
           sizeof(struct ring), SLOTS);

    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%d", seg_id);
    char *args[] = {argv[0], "consume", idbuf, NULL};
    int e = posix_spawnp(&child, argv[0], NULL, NULL, args, NULL);
    if (e) {
        errno = e;
        die("posix_spawnp");
    }

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    time_t end = now() + DEADLINE_S;
    int st;
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        uint32_t t;
        while (i - (t = atomic_load_explicit(&r->tail, memory_order_acquire)) >= SLOTS) {
            if (waitpid(child, &st, WNOHANG) == child)
                fail("the consumer ended early (wait status %#x) at message %u", (unsigned)st,
                     (unsigned)i);
            if (now() > end)
                fail("gave up waiting for room for message %u (after %d s)", (unsigned)i,
                     DEADLINE_S);
            wait_word(&r->tail, t);
        }
        make(&r->slot[i % SLOTS], i);
        atomic_store_explicit(&r->head, i + 1, memory_order_release);
        wake_word(&r->head);
    }
    double secs = seconds_since(&t0);

    if (waitpid(child, &st, 0) != child)
        die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("the consumer failed (wait status %#x)", (unsigned)st);
    if (atomic_load(&r->tail) != (uint32_t)n)
        fail("%u of %ld messages were taken", (unsigned)atomic_load(&r->tail), n);
    printf("producer: %ld messages sent in %.3f s, consumer exited 0\n", n, secs);

    struct shmid_ds ds;
    if (shmctl(seg_id, IPC_STAT, &ds) == -1)
        die("shmctl IPC_STAT");
    if (ds.shm_nattch != 1 || ds.shm_cpid != getpid() || ds.shm_lpid != child ||
        ds.shm_segsz != sizeof(struct ring))
        fail("unexpected IPC_STAT: nattch %u, lpid %u", (unsigned)ds.shm_nattch,
             (unsigned)ds.shm_lpid);
    printf("producer: IPC_STAT: nattch 1, cpid %d (me), lpid %d (the consumer's detach)\n",
           (int)ds.shm_cpid, (int)ds.shm_lpid);

    if (shmdt(r) == -1)
        die("shmdt");
    if (shmctl(seg_id, IPC_RMID, NULL) == -1)
        die("shmctl IPC_RMID");
    int gone = seg_id;
    seg_id = -1;
    if (shmctl(gone, IPC_STAT, &ds) != -1 || errno != EINVAL)
        fail("segment %d still there after IPC_RMID", gone);
    printf("producer: detached and removed segment %d\n", gone);
    return 0;
}

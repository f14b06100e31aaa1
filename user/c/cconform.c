/* cconform: a sample of the shared-memory conformance catalogues checked from C.
 *
 *   cconform [PREFIX...]        only the cases whose id starts with one of the PREFIXes
 *
 * The same cases, by id, as the Rust tests (kernel/src/shm_tests.rs, pshm_tests.rs,
 * mmap_tests.rs, user/shmchan/tests/l4shmc.rs, user/shmheap/tests/heap.rs), with their
 * expectations, but compiled against the C headers (user/clib/include) and run through the
 * C runtime: every constant, flag, errno value and structure layout a C program uses must
 * be the kernel's (or the libraries') for these to pass. Ids are those of
 * ../shared/conformance/{sysv-shm.md, posix-shm.md, channels-heap.md}; the memfd_create and
 * seal cases, which those catalogues leave to Linux, and the check of l4shmc.h's handle
 * structures have descriptive names. One line per id ("PASS SG-05" or "FAIL SG-05: why";
 * a case that checks several ids prints a line for each), then "cconform: N passed, M
 * failed"; the exit status is the number failed. Cases that need another process spawn
 * cconform itself (`cconform --child ...`); in the ones marked [SIG] in the catalogues the
 * child ends with a fault, whose report shows on the console. Everything a case makes is
 * removed when it ends, pass or fail. */
#include <errno.h>
#include <fcntl.h>
#include <l4shmc.h>
#include <limits.h>
#include <shmheap.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define P 4096

static char why[256];
static const char *self = "cconform";

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            snprintf(why, sizeof why, "line %d: %s (errno %d)", __LINE__, #cond, errno);       \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)

/* A call that must fail with -1 (or MAP_FAILED, or (void *)-1) and errno `e`. */
#define FAILS(expr, e) CHECK((intptr_t)(expr) == -1 && errno == (e))

/* ---- What a case made, removed when it ends ---- */

static int segs[16], nsegs;
static char names[16][32];
static int nnames;

static int track_seg(int id)
{
    if (id >= 0 && nsegs < 16)
        segs[nsegs++] = id;
    return id;
}

/* A POSIX object name for this run: "/cc.PID.TAG", remembered for the sweep. */
static const char *obj_name(const char *tag)
{
    if (nnames == 16)
        return "/cc.too-many";
    snprintf(names[nnames], sizeof names[0], "/cc.%d.%s", (int)getpid(), tag);
    return names[nnames++];
}

/* An l4shmc area name (at most 15 bytes): "ccPIDTAG"; its object is "/ccPIDTAG". */
static const char *area_name(const char *tag)
{
    if (nnames == 16)
        return "cc-too-many";
    snprintf(names[nnames], sizeof names[0], "/cc%d%s", (int)getpid() % 100000, tag);
    return names[nnames++] + 1;
}

static void sweep(void)
{
    for (int i = 0; i < nsegs; i++)
        shmctl(segs[i], IPC_RMID, NULL);
    for (int i = 0; i < nnames; i++)
        shm_unlink(names[i]);
    nsegs = nnames = 0;
    for (int fd = 3; fd < 64; fd++)
        close(fd);
}

/* ---- Helpers ---- */

static key_t key(int n)
{
    return (key_t)(0x4c000000 | ((getpid() & 0xffff) << 8) | n);
}

static struct shmid_ds ds;

static int stat_ok(int id)
{
    return shmctl(id, IPC_STAT, &ds) == 0;
}

/* A free, page-aligned range of `len` bytes (mapped, then unmapped: LTP's probe). */
static char *free_range(size_t len)
{
    char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    munmap(p, len);
    return p;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int all_bytes(const void *p, size_t n, unsigned char b)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != b)
            return 0;
    return 1;
}

/* Spawn `cconform --child WHAT A B` (A, B may be NULL) with `fa`; returns the pid or -1. */
static pid_t spawn_child(const posix_spawn_file_actions_t *fa, const char *what, const char *a,
                         const char *b)
{
    char *args[] = {(char *)self, "--child", (char *)what, (char *)a, (char *)b, NULL};
    pid_t pid;
    int e = posix_spawnp(&pid, self, fa, NULL, args, NULL);
    if (e) {
        errno = e;
        return -1;
    }
    return pid;
}

/* Run a child to its end; its wait status, or -1. */
static int run_child(const char *what, const char *a, const char *b)
{
    pid_t pid = spawn_child(NULL, what, a, b);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static int exited0(int st)
{
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ======================= System V (sysv-shm.md) ======================= */

static int k_06(void)
{
    CHECK(SHMLBA == 4096 && sysconf(_SC_PAGESIZE) == SHMLBA);
    CHECK(IPC_CREAT == 01000 && IPC_EXCL == 02000 && IPC_PRIVATE == 0 && IPC_RMID == 0);
    CHECK(IPC_SET == 1 && IPC_STAT == 2 && IPC_INFO == 3 && SHM_STAT == 13 && SHM_INFO == 14);
    CHECK(SHM_RDONLY == 010000 && SHM_RND == 020000 && SHM_DEST == 01000);
    CHECK(sizeof(shmatt_t) >= sizeof(unsigned short));
    return 0;
}

static int sg_01(void)
{
    int a = track_seg(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600));
    int b = track_seg(shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600));
    CHECK(a >= 0 && b >= 0 && a != b);
    return 0;
}

static int sg_02(void)
{
    int a = track_seg(shmget(IPC_PRIVATE, 4096, 0600));
    CHECK(a >= 0);
    return 0;
}

static int sg_03(void)
{
    int a = track_seg(shmget(IPC_PRIVATE, 4096, IPC_CREAT | IPC_EXCL | 0600));
    int b = track_seg(shmget(IPC_PRIVATE, 4096, IPC_CREAT | IPC_EXCL | 0600));
    CHECK(a >= 0 && b >= 0 && a != b);
    return 0;
}

static int sg_05_06_08(int which)
{
    key_t k = key(5);
    int id = track_seg(shmget(k, 8192, IPC_CREAT | 0600));
    CHECK(id >= 0);
    if (which == 5)
        CHECK(shmget(k, 8192, IPC_CREAT | 0600) == id && shmget(k, 4096, 0) == id);
    if (which == 6)
        CHECK(shmget(k, 0, 0) == id);
    if (which == 8)
        CHECK(shmget(k, 8192, IPC_EXCL) == id);
    return 0;
}

static int sg_05(void)
{
    return sg_05_06_08(5);
}

static int sg_06(void)
{
    return sg_05_06_08(6);
}

static int sg_08(void)
{
    return sg_05_06_08(8);
}

static int sg_07(void)
{
    key_t k = key(7);
    CHECK(track_seg(shmget(k, 8192, IPC_CREAT | 0600)) >= 0);
    FAILS(shmget(k, 8192, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    return 0;
}

static int sg_09(void)
{
    FAILS(shmget(key(9), 2048, IPC_EXCL), ENOENT);
    return 0;
}

static int sg_10(void)
{
    FAILS(shmget(key(10), 2048, 0600), ENOENT);
    return 0;
}

static int sg_11(void)
{
    FAILS(shmget(key(11), 0, IPC_CREAT | IPC_EXCL | 0600), EINVAL);
    return 0;
}

static int sg_12(void)
{
    FAILS(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
    return 0;
}

static int sg_13(void)
{
    struct shminfo info;
    CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0);
    FAILS(shmget(key(13), info.shmmax + 1, IPC_CREAT | 0600), EINVAL);
    FAILS(shmget(key(13), 1, 0), ENOENT); /* the key is still unused */
    return 0;
}

static int sg_15(void)
{
    FAILS(shmget(IPC_PRIVATE, SIZE_MAX, IPC_CREAT | 0600), EINVAL);
    FAILS(shmget(IPC_PRIVATE, SIZE_MAX - P + 2, IPC_CREAT | 0600), EINVAL);
    return 0;
}

static int sg_16_17(int which)
{
    key_t k = key(16);
    int id = track_seg(shmget(k, 100, IPC_CREAT | 0600));
    CHECK(id >= 0);
    if (which == 16)
        FAILS(shmget(k, 101, 0), EINVAL); /* the exact size, not the page */
    else
        FAILS(shmget(k, 200, IPC_CREAT | 0600), EINVAL); /* never grown */
    CHECK(shmget(k, 100, 0) == id);
    CHECK(stat_ok(id) && ds.shm_segsz == 100);
    return 0;
}

static int sg_16(void)
{
    return sg_16_17(16);
}

static int sg_17(void)
{
    return sg_16_17(17);
}

static int sg_26(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, 3 * P + 5, IPC_CREAT | 0600));
    CHECK(id >= 0);
    unsigned char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    CHECK(all_bytes(p, 4 * P, 0)); /* to the end of the last page */
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sg_29(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, 100, IPC_CREAT | 0600));
    CHECK(id >= 0 && stat_ok(id) && ds.shm_segsz == 100);
    return 0;
}

static int sg_30(void)
{
    int id = track_seg(shmget(key(30), 3 * P + 5, IPC_CREAT | IPC_EXCL | 0640));
    CHECK(id >= 0 && stat_ok(id));
    CHECK(ds.shm_perm.mode == 0640); /* no IPC_CREAT/IPC_EXCL bits, no SHM_DEST */
    return 0;
}

/* SG-31 runs in a child that takes uid 1000 and gid 100 (as the Rust test does). */
static int sg_31(void)
{
    CHECK(exited0(run_child("sg31", NULL, NULL)));
    return 0;
}

static int child_sg31(void)
{
    if (setgid(100) != 0 || setuid(1000) != 0)
        return 10;
    int id = shmget(IPC_PRIVATE, P, IPC_CREAT | 0640);
    if (id < 0)
        return 11;
    int r = stat_ok(id) && ds.shm_perm.uid == 1000 && ds.shm_perm.gid == 100 &&
                    ds.shm_perm.cuid == 1000 && ds.shm_perm.cgid == 100
                ? 0
                : 12;
    return shmctl(id, IPC_RMID, NULL) == 0 ? r : 13;
}

static int sg_32(void)
{
    time_t t0 = time(NULL);
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    time_t t1 = time(NULL);
    CHECK(id >= 0 && stat_ok(id));
    CHECK(ds.shm_cpid == getpid() && ds.shm_lpid == 0 && ds.shm_nattch == 0);
    CHECK(ds.shm_atime == 0 && ds.shm_dtime == 0);
    CHECK(t0 <= ds.shm_ctime && ds.shm_ctime <= t1);
    return 0;
}

static int sg_33(void)
{
    int a = track_seg(shmget(key(33), P, IPC_CREAT | 0600));
    int b = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    CHECK(a >= 0 && stat_ok(a) && ds.shm_perm.__key == key(33));
    CHECK(b >= 0 && stat_ok(b) && ds.shm_perm.__key == 0);
    return 0;
}

static int sg_34(void)
{
    int old = shmget(IPC_PRIVATE, P, IPC_CREAT | 0600);
    CHECK(old >= 0 && shmctl(old, IPC_RMID, NULL) == 0);
    int new = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    CHECK(new >= 0 && new != old);
    FAILS(shmctl(old, IPC_STAT, &ds), EINVAL);
    FAILS(shmat(old, NULL, 0), EINVAL);
    return 0;
}

static int sg_35_36(int which)
{
    key_t k = key(35);
    int old = track_seg(shmget(k, P, IPC_CREAT | 0600));
    char *p = shmat(old, NULL, 0);
    CHECK(old >= 0 && p != (void *)-1);
    memcpy(p, "old data", 8);
    CHECK(shmctl(old, IPC_RMID, NULL) == 0);
    if (which == 35)
        FAILS(shmget(k, P, 0), ENOENT);
    if (which == 36) {
        int new = track_seg(shmget(k, P, IPC_CREAT | IPC_EXCL | 0600));
        CHECK(new >= 0 && new != old);
        char *q = shmat(new, NULL, 0);
        CHECK(q != (void *)-1 && all_bytes(q, P, 0));
        memcpy(q, "new", 3);
        CHECK(memcmp(p, "old data", 8) == 0);
        CHECK(shmdt(q) == 0);
    }
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sg_35(void)
{
    return sg_35_36(35);
}

static int sg_36(void)
{
    return sg_35_36(36);
}

static int sa_01(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, 3 * P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1 && (uintptr_t)p % SHMLBA == 0);
    p[0] = 1;
    p[3 * P - 1] = 2;
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sa_02_03(int which)
{
    int id = track_seg(shmget(IPC_PRIVATE, 3 * P, IPC_CREAT | 0600));
    char *a = free_range(3 * P);
    CHECK(id >= 0 && a != NULL);
    char *p = which == 2 ? shmat(id, a, 0) : shmat(id, a + SHMLBA - 1, SHM_RND);
    CHECK(p == a);
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sa_02(void)
{
    return sa_02_03(2);
}

static int sa_03(void)
{
    return sa_02_03(3);
}

static int sa_04(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *a = free_range(2 * P);
    CHECK(id >= 0 && a != NULL);
    FAILS(shmat(id, a + SHMLBA - 1, 0), EINVAL);
    return 0;
}

static int sa_06(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    FAILS(shmat(id, (void *)1, SHM_RND), EINVAL);
    return 0;
}

/* [SIG] A write through a SHM_RDONLY attachment kills the child with SIGSEGV. */
static int sa_07(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    strcpy(p, "unchanged");
    char arg[16];
    snprintf(arg, sizeof arg, "%d", id);
    int st = run_child("sa07", arg, NULL);
    CHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    CHECK(strcmp(p, "unchanged") == 0);
    CHECK(stat_ok(id) && ds.shm_nattch == 1);
    CHECK(shmdt(p) == 0);
    return 0;
}

static int child_sa07(int id)
{
    volatile char *r = shmat(id, NULL, SHM_RDONLY);
    if (r == (void *)-1 || strcmp((const char *)r, "unchanged") != 0)
        return 20;
    r[0] = 'X'; /* faults */
    return 21;
}

static int sa_11(void)
{
    FAILS(shmat(-1, NULL, 0), EINVAL);
    return 0;
}

static int sa_12(void)
{
    FAILS(shmat(0x7fffffff, NULL, 0), EINVAL);
    return 0;
}

static int sa_13(void)
{
    int id = shmget(IPC_PRIVATE, P, IPC_CREAT | 0600);
    CHECK(id >= 0 && shmctl(id, IPC_RMID, NULL) == 0);
    FAILS(shmat(id, NULL, 0), EINVAL);
    return 0;
}

static int sa_14(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1 && shmctl(id, IPC_RMID, NULL) == 0);
    FAILS(shmat(id, NULL, 0), EINVAL); /* POSIX (DV-01) */
    p[0] = 1;                          /* the old attachment still works */
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sa_17(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    FAILS(shmat(id, NULL, SHM_REMAP), EINVAL);
    FAILS(shmat(id, NULL, SHM_EXEC), EINVAL);
    return 0;
}

static int sa_21(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    CHECK(id >= 0 && stat_ok(id));
    struct shmid_ds before = ds;
    time_t t0 = time(NULL);
    char *p = shmat(id, NULL, 0);
    time_t t1 = time(NULL);
    CHECK(p != (void *)-1 && stat_ok(id));
    CHECK(ds.shm_nattch == 1 && t0 <= ds.shm_atime && ds.shm_atime <= t1);
    CHECK(ds.shm_lpid == getpid());
    CHECK(ds.shm_ctime == before.shm_ctime && ds.shm_dtime == 0);
    CHECK(ds.shm_segsz == before.shm_segsz);
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sa_23(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p1 = shmat(id, NULL, 0);
    CHECK(p1 != (void *)-1);
    memcpy(p1, "pattern!", 8);
    char *p2 = shmat(id, NULL, 0);
    CHECK(p2 != (void *)-1 && p2 != p1 && memcmp(p2, "pattern!", 8) == 0);
    memcpy(p2 + 8, "via p2..", 8);
    CHECK(memcmp(p1 + 8, "via p2..", 8) == 0);
    CHECK(stat_ok(id) && ds.shm_nattch == 2);
    CHECK(shmdt(p1) == 0 && shmdt(p2) == 0);
    return 0;
}

/* SA-25: another process attaches by key, sees the pattern and writes back. */
static int sa_25(void)
{
    key_t k = key(25);
    int id = track_seg(shmget(k, 2 * P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    memcpy(p + P, "from p1!", 8);
    char karg[16];
    snprintf(karg, sizeof karg, "%d", (int)k);
    CHECK(exited0(run_child("sa25", karg, NULL)));
    CHECK(memcmp(p, "from p2!", 8) == 0);
    CHECK(shmdt(p) == 0);
    return 0;
}

static int child_sa25(key_t k)
{
    int id = shmget(k, 0, 0);
    char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
    if (p == (void *)-1 || memcmp(p + P, "from p1!", 8) != 0)
        return 30;
    memcpy(p, "from p2!", 8);
    return shmdt(p) == 0 ? 0 : 31;
}

static int sd_01(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1 && stat_ok(id));
    struct shmid_ds before = ds;
    time_t t0 = time(NULL);
    CHECK(shmdt(p) == 0);
    time_t t1 = time(NULL);
    CHECK(stat_ok(id) && ds.shm_nattch == 0 && ds.shm_lpid == getpid());
    CHECK(t0 <= ds.shm_dtime && ds.shm_dtime <= t1);
    CHECK(ds.shm_atime == before.shm_atime && ds.shm_ctime == before.shm_ctime);
    return 0;
}

static int sd_03_to_08(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, 2 * P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    char *nothing = free_range(P);
    CHECK(p != (void *)-1 && nothing != NULL);
    FAILS(shmdt(nothing), EINVAL);          /* SD-03 */
    FAILS(shmdt(p + SHMLBA - 1), EINVAL);   /* SD-04 */
    FAILS(shmdt(p + P), EINVAL);            /* SD-05 */
    CHECK(stat_ok(id) && ds.shm_nattch == 1);
    char *q = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    FAILS(shmdt(q), EINVAL); /* SD-07 */
    q[0] = 1;
    FAILS(shmdt(NULL), EINVAL); /* SD-08 */
    CHECK(shmdt(p) == 0);
    FAILS(shmdt(p), EINVAL); /* SD-06 */
    CHECK(munmap(q, P) == 0);
    return 0;
}

static int sc_04(void)
{
    FAILS(shmctl(-1, IPC_STAT, &ds), EINVAL);
    FAILS(shmctl(-5, IPC_STAT, &ds), EINVAL); /* SC-29 */
    return 0;
}

static int sc_06(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1 && shmctl(id, IPC_RMID, NULL) == 0);
    FAILS(shmctl(id, IPC_STAT, &ds), EINVAL); /* DV-02: removed, still attached */
    CHECK(shmdt(p) == 0);
    FAILS(shmctl(id, IPC_STAT, &ds), EINVAL); /* SC-05 */
    return 0;
}

static int sc_07(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    FAILS(shmctl(id, IPC_STAT, (struct shmid_ds *)-1), EFAULT);
    FAILS(shmctl(id, IPC_STAT, NULL), EFAULT);
    CHECK(shmctl(id, IPC_STAT | IPC_64, &ds) == 0); /* glibc's flag is accepted */
    return 0;
}

static int sc_08(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0666));
    CHECK(id >= 0 && stat_ok(id));
    time_t old = ds.shm_ctime;
    ds.shm_perm.mode &= ~0066u;
    CHECK(shmctl(id, IPC_SET, &ds) == 0 && stat_ok(id));
    CHECK(ds.shm_perm.mode == 0600 && ds.shm_ctime >= old);
    return 0;
}

static int sc_09_10(int which)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1 && stat_ok(id));
    struct shmid_ds old = ds, set = ds;
    set.shm_perm.mode = 0100666 | SHM_DEST;
    if (which == 10) {
        set.shm_segsz = 1 << 30;
        set.shm_nattch = 99;
        set.shm_atime = 1;
        set.shm_cpid = 4242;
        set.shm_perm.cuid = 7;
    }
    CHECK(shmctl(id, IPC_SET, &set) == 0 && stat_ok(id));
    CHECK(ds.shm_perm.mode == 0666); /* the low nine bits only */
    CHECK(ds.shm_segsz == old.shm_segsz && ds.shm_nattch == 1);
    CHECK(ds.shm_atime == old.shm_atime && ds.shm_cpid == old.shm_cpid);
    CHECK(ds.shm_perm.cuid == old.shm_perm.cuid);
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sc_09(void)
{
    return sc_09_10(9);
}

static int sc_10(void)
{
    return sc_09_10(10);
}

static int sc_17(void)
{
    key_t k = key(17);
    int id = track_seg(shmget(k, P, IPC_CREAT | 0600));
    CHECK(id >= 0);
    CHECK(shmctl(id, IPC_RMID, (struct shmid_ds *)0xdeadbeef) == 0); /* SC-22: buf ignored */
    FAILS(shmctl(id, IPC_STAT, &ds), EINVAL);
    FAILS(shmat(id, NULL, 0), EINVAL);
    FAILS(shmget(k, 0, 0), ENOENT);
    return 0;
}

static int sc_18(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char *p = shmat(id, NULL, 0);
    CHECK(p != (void *)-1);
    memcpy(p, "keep me!", 8);
    CHECK(shmctl(id, IPC_RMID, NULL) == 0);
    CHECK(memcmp(p, "keep me!", 8) == 0);
    memcpy(p, "and more", 8);
    FAILS(shmctl(id, IPC_RMID, NULL), EINVAL); /* SC-26 (DV-02) */
    CHECK(shmdt(p) == 0);
    return 0;
}

static int sc_25(void)
{
    int id = shmget(IPC_PRIVATE, P, IPC_CREAT | 0600);
    CHECK(id >= 0 && shmctl(id, IPC_RMID, NULL) == 0);
    FAILS(shmctl(id, IPC_RMID, NULL), EINVAL);
    FAILS(shmctl(-1, IPC_RMID, NULL), EINVAL); /* SC-24 */
    return 0;
}

static int sc_28(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    FAILS(shmctl(id, -1, &ds), EINVAL);
    FAILS(shmctl(id, 99, &ds), EINVAL);
    /* SC-33: SHM_LOCK, SHM_UNLOCK and SHM_STAT_ANY are not provided. */
    FAILS(shmctl(id, SHM_LOCK, &ds), EINVAL);
    FAILS(shmctl(id, SHM_UNLOCK, &ds), EINVAL);
    FAILS(shmctl(id, SHM_STAT_ANY, &ds), EINVAL);
    return 0;
}

static int sc_30(void)
{
    struct shminfo info;
    memset(&info, 0xff, sizeof info);
    CHECK(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0);
    CHECK(info.shmmin == 1 && info.shmmax == 64UL << 20 && info.shmmni == 128);
    CHECK(info.shmseg == 64 && info.shmall == 65536);
    return 0;
}

static int sc_31(void)
{
    struct shm_info before, after;
    CHECK(shmctl(0, SHM_INFO, (struct shmid_ds *)&before) >= 0);
    key_t ka = key(31), kb = key(32);
    int a = track_seg(shmget(ka, P, IPC_CREAT | 0600));
    int b = track_seg(shmget(kb, 3 * P, IPC_CREAT | 0644));
    char *p = shmat(b, NULL, 0);
    CHECK(a >= 0 && b >= 0 && p != (void *)-1);
    CHECK(shmctl(b, IPC_RMID, NULL) == 0);
    int hi = shmctl(0, SHM_INFO, (struct shmid_ds *)&after);
    CHECK(hi >= 0 && after.used_ids == before.used_ids + 2);
    CHECK(after.shm_tot == before.shm_tot + 4); /* pages */
    CHECK(shmctl(0, IPC_INFO, &ds) == hi);
    int seen = 0;
    for (int idx = 0; idx <= hi; idx++) {
        int r = shmctl(idx, SHM_STAT, &ds);
        if (r == a)
            seen |= ds.shm_perm.__key == ka && ds.shm_perm.mode == 0600 && ds.shm_nattch == 0;
        if (r == b) /* removed but attached: listed, with SHM_DEST and key 0 */
            seen |= (ds.shm_perm.__key == 0 && ds.shm_perm.mode == (0644 | SHM_DEST) &&
                     ds.shm_nattch == 1)
                    << 1;
    }
    CHECK(seen == 3);
    FAILS(shmctl(-1, SHM_STAT, &ds), EINVAL);
    FAILS(shmctl(0, SHM_INFO, NULL), EFAULT);
    CHECK(shmdt(p) == 0);
    return 0;
}

/* SX-01: a child attaches twice and exits without shmdt. */
static int sx_01(void)
{
    int id = track_seg(shmget(IPC_PRIVATE, P, IPC_CREAT | 0600));
    char arg[16];
    snprintf(arg, sizeof arg, "%d", id);
    time_t t0 = time(NULL);
    pid_t pid = spawn_child(NULL, "sx01", arg, NULL);
    int st;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && exited0(st));
    time_t t1 = time(NULL);
    CHECK(stat_ok(id) && ds.shm_nattch == 0 && ds.shm_lpid == pid);
    CHECK(t0 <= ds.shm_dtime && ds.shm_dtime <= t1);
    char *q = shmat(id, NULL, 0); /* SX-03: the data outlives the child */
    CHECK(q != (void *)-1 && memcmp(q, "childpat", 8) == 0);
    CHECK(shmdt(q) == 0);
    return 0;
}

static int child_sx01(int id)
{
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1 || shmat(id, NULL, SHM_RDONLY) == (void *)-1)
        return 40;
    memcpy(p, "childpat", 8);
    return stat_ok(id) && ds.shm_nattch == 2 ? 0 : 41; /* exit detaches both */
}

/* =================== POSIX shared memory (posix-shm.md) =================== */

static int po_01(void)
{
    int low = dup(0);
    CHECK(low >= 0 && close(low) == 0);
    int fd = shm_open(obj_name("po01"), O_RDWR | O_CREAT, 0600);
    CHECK(fd == low);
    return 0;
}

static int po_02(void)
{
    int fd = shm_open(obj_name("po02"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
    return 0;
}

static int po_03(void)
{
    struct stat st;
    int fd = shm_open(obj_name("po03"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
    return 0;
}

static int po_05(void)
{
    const char *n = obj_name("po05");
    struct stat a, b;
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 100) == 0);
    int fd2 = shm_open(n, O_RDWR | O_CREAT, 0777);
    CHECK(fd2 >= 0 && fstat(fd, &a) == 0 && fstat(fd2, &b) == 0);
    CHECK(b.st_size == 100 && b.st_mode == (S_IFREG | 0600) && a.st_ino == b.st_ino);
    return 0;
}

static int po_06(void)
{
    const char *n = obj_name("po06");
    CHECK(shm_open(n, O_RDWR | O_CREAT, 0600) >= 0);
    FAILS(shm_open(n, O_RDONLY | O_CREAT | O_EXCL, 0600), EEXIST);
    return 0;
}

static int po_08(void)
{
    FAILS(shm_open(obj_name("po08"), O_RDONLY, 0), ENOENT);
    return 0;
}

static int po_11(void)
{
    mode_t old = umask(022);
    struct stat st;
    int fd = shm_open(obj_name("po11"), O_RDWR | O_CREAT, 0666);
    umask(old);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0644);
    return 0;
}

static int po_13(void)
{
    const char *n = obj_name("po13");
    struct stat st;
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 5000) == 0);
    int t = shm_open(n, O_RDWR | O_TRUNC, 0777);
    CHECK(t >= 0 && fstat(t, &st) == 0 && st.st_size == 0 && (st.st_mode & 0777) == 0600);
    return 0;
}

static int po_16(void)
{
    FAILS(shm_open(obj_name("po16"), O_RDONLY | O_TRUNC | O_CREAT, 0600), EINVAL);
    return 0;
}

static int po_17(void)
{
    FAILS(shm_open(obj_name("po17"), O_RDWR | O_EXCL, 0), ENOENT);
    return 0;
}

static int po_18(void)
{
    FAILS(shm_open(obj_name("po18"), O_WRONLY | O_CREAT, 0600), EINVAL);
    return 0;
}

static int po_19(void)
{
    FAILS(shm_open(obj_name("po19"), O_RDWR | O_CREAT | O_APPEND, 0600), EINVAL);
    return 0;
}

static int po_21_to_24(void)
{
    static const char *bad[] = {"t", "/", "//", "", "/a/b", "/.", "/.."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (shm_open(bad[i], O_RDWR | O_CREAT, 0600) != -1 || errno != EINVAL) {
            snprintf(why, sizeof why, "name \"%s\": not EINVAL (errno %d)", bad[i], errno);
            shm_unlink(bad[i]);
            return -1;
        }
    }
    return 0;
}

static int po_26_28(int which)
{
    char name[300];
    name[0] = '/';
    int n = which == 26 ? 256 : 255;
    memset(name + 1, 'c', (size_t)n);
    name[n + 1] = 0;
    if (which == 26) {
        FAILS(shm_open(name, O_RDWR | O_CREAT, 0600), ENAMETOOLONG);
    } else {
        CHECK(shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600) >= 0);
        CHECK(shm_unlink(name) == 0);
    }
    return 0;
}

static int po_26(void)
{
    return po_26_28(26);
}

static int po_28(void)
{
    return po_26_28(28);
}

static int po_33(void)
{
    FAILS(shm_open(NULL, O_RDWR, 0), EFAULT);
    FAILS(shm_open((const char *)0xdead0000, O_RDWR, 0), EFAULT);
    return 0;
}

static int pu_01_06_07(void)
{
    const char *n = obj_name("pu01");
    CHECK(shm_open(n, O_RDWR | O_CREAT, 0600) >= 0);
    CHECK(shm_unlink(n) == 0);
    FAILS(shm_open(n, O_RDWR, 0), ENOENT);
    FAILS(shm_unlink(n), ENOENT);
    return 0;
}

static int pu_03(void)
{
    const char *n = obj_name("pu03");
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 8) == 0 && pwrite(fd, "hello", 5, 0) == 5);
    CHECK(shm_unlink(n) == 0);
    char *q = mmap(NULL, 8, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(q != MAP_FAILED && memcmp(q, "hello", 5) == 0);
    CHECK(munmap(q, 8) == 0);
    return 0;
}

static int pu_05(void)
{
    const char *n = obj_name("pu05");
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, P) == 0);
    char *p = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    strcpy(p, "old");
    CHECK(shm_unlink(n) == 0);
    int fd2 = shm_open(n, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd2 >= 0 && ftruncate(fd2, P) == 0);
    char *q = mmap(NULL, P, PROT_READ, MAP_SHARED, fd2, 0);
    CHECK(q != MAP_FAILED && all_bytes(q, P, 0) && strcmp(p, "old") == 0);
    CHECK(munmap(p, P) == 0 && munmap(q, P) == 0);
    return 0;
}

static int pt_01_02(int which)
{
    struct stat st;
    int fd = shm_open(obj_name("pt01"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 10000) == 0 && fstat(fd, &st) == 0 && st.st_size == 10000);
    unsigned char *p = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED && all_bytes(p, 10000, 0));
    if (which == 2) {
        memset(p + 5000, 1, 8);
        CHECK(ftruncate(fd, 4000) == 0 && ftruncate(fd, 10000) == 0);
        CHECK(all_bytes(p + 5000, 8, 0));
    }
    CHECK(munmap(p, 3 * P) == 0);
    return 0;
}

static int pt_01(void)
{
    return pt_01_02(1);
}

static int pt_02(void)
{
    return pt_01_02(2);
}

/* [SIG] PT-03: a page cut off by ftruncate is SIGBUS in the child's mapping. */
static int pt_03(void)
{
    const char *n = obj_name("pt03");
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 2 * P) == 0);
    int st = run_child("pt03", n, NULL);
    CHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
    struct stat s;
    CHECK(fstat(fd, &s) == 0 && s.st_size == P);
    return 0;
}

static int child_pt03(const char *name)
{
    int fd = shm_open(name, O_RDWR, 0);
    volatile char *p = fd < 0 ? MAP_FAILED : mmap(NULL, 2 * P, PROT_READ | PROT_WRITE,
                                                  MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return 50;
    p[P] = 1;
    if (ftruncate(fd, P) != 0)
        return 51;
    p[0] = 2;
    p[P] = 3; /* SIGBUS */
    return 52;
}

static int pt_04_05_06_09(void)
{
    const char *n = obj_name("pt04");
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, P) == 0);
    FAILS(ftruncate(fd, -1), EINVAL); /* PT-04 */
    CHECK(ftruncate(fd, 0) == 0);     /* PT-06 */
    int ro = shm_open(n, O_RDONLY, 0);
    FAILS(ftruncate(ro, 8), EINVAL); /* PT-05 */
    int closed = dup(0);
    CHECK(closed >= 0 && close(closed) == 0);
    FAILS(ftruncate(closed, 8), EBADF); /* PT-09 */
    return 0;
}

static int pt_07(void)
{
    int fd = shm_open(obj_name("pt07"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, P) == 0);
    char *p = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    p[0] = 9;
    CHECK(ftruncate(fd, 3 * P) == 0);
    CHECK(p[0] == 9 && all_bytes(p + P, 2 * P, 0)); /* grown into the mapping */
    p[2 * P] = 1;
    CHECK(munmap(p, 3 * P) == 0);
    return 0;
}

static int pt_08(void)
{
    struct stat st;
    int fd = shm_open(obj_name("pt08"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 100) == 0);
    FAILS(ftruncate(fd, (off_t)1 << 40), EFBIG);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 100);
    return 0;
}

static int pm_03(void)
{
    int fd = shm_open(obj_name("pm03"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, P) == 0);
    char *s = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *r = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(s != MAP_FAILED && r != MAP_FAILED);
    s[0] = 'h';
    r[0] = 'X';
    CHECK(s[0] == 'h');
    CHECK(munmap(s, P) == 0 && munmap(r, P) == 0);
    return 0;
}

static int pm_07_to_13(void)
{
    int fd = shm_open(obj_name("pm07"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 2 * P) == 0);
    int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
    FAILS(mmap(NULL, 0, rw, anon, -1, 0), EINVAL);                     /* PM-07 */
    FAILS(mmap(NULL, P, rw, MAP_SHARED, fd, 100), EINVAL);             /* PM-08 */
    FAILS(mmap((void *)0x50000001, P, rw, anon | MAP_FIXED, -1, 0), EINVAL); /* PM-09 */
    FAILS(mmap(NULL, P, rw, MAP_ANONYMOUS, -1, 0), EINVAL);            /* PM-10 */
    int closed = dup(0);
    CHECK(closed >= 0 && close(closed) == 0);
    FAILS(mmap(NULL, P, rw, MAP_SHARED, closed, 0), EBADF); /* PM-13 */
    FAILS(mmap(NULL, P, rw, MAP_SHARED, -1, 0), EBADF);
    FAILS(mmap(NULL, P, PROT_WRITE | PROT_EXEC, anon, -1, 0), EACCES); /* W^X */
    return 0;
}

static int pm_11(void)
{
    const char *n = obj_name("pm11");
    CHECK(shm_open(n, O_RDWR | O_CREAT, 0600) >= 0);
    int ro = shm_open(n, O_RDONLY, 0);
    CHECK(ro >= 0);
    FAILS(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    char *p = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    CHECK(p != MAP_FAILED && munmap(p, P) == 0);
    return 0;
}

static int pm_14_17_18(void)
{
    int fd = shm_open(obj_name("pm14"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 3 * P) == 0);
    char *a = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, P); /* PM-17 */
    CHECK(a != MAP_FAILED && b != MAP_FAILED);
    a[P + 5] = 42;
    CHECK(b[5] == 42); /* PM-18 */
    CHECK(close(fd) == 0);
    b[0] = 1; /* PM-14 */
    CHECK(a[P] == 1);
    CHECK(munmap(a, 3 * P) == 0 && munmap(b, 2 * P) == 0);
    return 0;
}

static int pm_16(void)
{
    FAILS(mmap((void *)(UINTPTR_MAX & ~(uintptr_t)(P - 1)), P, PROT_READ,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
          ENOMEM);
    FAILS(mmap(NULL, SIZE_MAX - 10, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
    return 0;
}

static int pm_20_to_24(void)
{
    char *nothing = free_range(P);
    CHECK(nothing != NULL);
    CHECK(munmap(nothing, P) == 0);         /* PM-20 */
    FAILS(munmap(nothing + 1, P), EINVAL);  /* PM-21 */
    FAILS(munmap(nothing, 0), EINVAL);      /* PM-22 */
    FAILS(munmap((void *)0xffff000000000000UL, P), EINVAL); /* PM-23 */
    char *p = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    p[0] = 1;
    p[2 * P] = 3;
    CHECK(munmap(p + P, P) == 0); /* PM-24 */
    CHECK(p[0] == 1 && p[2 * P] == 3);
    CHECK(mprotect(p, 3 * P, PROT_READ) == -1 && errno == ENOMEM); /* the hole */
    CHECK(munmap(p, 3 * P) == 0);
    return 0;
}

static int pf_01(void)
{
    mode_t old = umask(022);
    int fd = shm_open(obj_name("pf01"), O_RDWR | O_CREAT, 0640);
    umask(old);
    struct stat st;
    CHECK(fd >= 0 && ftruncate(fd, 8192) == 0 && fstat(fd, &st) == 0);
    CHECK(st.st_size == 8192 && st.st_mode == (S_IFREG | 0640) && S_ISREG(st.st_mode));
    CHECK(st.st_uid == getuid() && st.st_gid == getgid());
    return 0;
}

static int pf_03(void)
{
    int fd = shm_open(obj_name("pf03"), O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && close(fd) == 0);
    FAILS(close(fd), EBADF);
    return 0;
}

static int pf_04(void)
{
    const char *n = obj_name("pf04");
    int fd = shm_open(n, O_RDWR | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 8192) == 0 && pwrite(fd, "kept", 4, 100) == 4);
    CHECK(close(fd) == 0);
    struct stat st;
    char b[4];
    fd = shm_open(n, O_RDWR, 0);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 8192);
    CHECK(pread(fd, b, 4, 100) == 4 && memcmp(b, "kept", 4) == 0); /* PO-31 */
    return 0;
}

static int pa_01_04(void)
{
    struct stat st;
    int a = shm_open(SHM_ANON, O_RDWR | O_CREAT, 0600);
    CHECK(a >= 0 && fcntl(a, F_GETFD) == FD_CLOEXEC && fstat(a, &st) == 0 && st.st_size == 0);
    CHECK(shm_open(SHM_ANON, O_RDWR | O_CREAT | O_EXCL | O_TRUNC, 0600) >= 0); /* PA-04 */
    CHECK(shm_open(SHM_ANON, O_RDWR, 0) >= 0);
    return 0;
}

static int pa_02(void)
{
    int a = shm_open(SHM_ANON, O_RDWR, 0600), b = shm_open(SHM_ANON, O_RDWR, 0600);
    CHECK(a >= 0 && b >= 0 && ftruncate(a, P) == 0 && ftruncate(b, P) == 0);
    char *pa = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
    char *pb = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
    CHECK(pa != MAP_FAILED && pb != MAP_FAILED);
    pa[0] = 5;
    CHECK(pb[0] == 0);
    CHECK(close(a) == 0 && pa[0] == 5); /* PA-09: the mapping outlives the descriptor */
    CHECK(munmap(pa, P) == 0 && munmap(pb, P) == 0);
    return 0;
}

static int pa_03(void)
{
    FAILS(shm_open(SHM_ANON, O_RDONLY, 0600), EINVAL);
    return 0;
}

static int pa_05(void)
{
    FAILS(shm_unlink(SHM_ANON), EINVAL);
    return 0;
}

/* memfd_create and seals (Linux's; kernel/src/pshm_tests.rs memfd_create_and_seals_as_linux) */

static int memfd_cloexec(void)
{
    int fd = memfd_create("buf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC && fcntl(fd, F_GET_SEALS) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
    return 0;
}

static int memfd_seal_write_busy(void)
{
    int fd = memfd_create("buf", MFD_ALLOW_SEALING);
    CHECK(fd >= 0 && ftruncate(fd, 2 * P) == 0);
    char *p = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    FAILS(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
    CHECK(munmap(p, P) == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
    return 0;
}

static int memfd_seals(void)
{
    int fd = memfd_create("buf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0 && ftruncate(fd, 2 * P) == 0);
    int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    CHECK(fcntl(fd, F_ADD_SEALS, seals) == 0 && fcntl(fd, F_GET_SEALS) == seals);
    FAILS(ftruncate(fd, P), EPERM);
    FAILS(ftruncate(fd, 4 * P), EPERM);
    FAILS(write(fd, "x", 1), EPERM);
    FAILS(mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
    char *r = mmap(NULL, P, PROT_READ, MAP_SHARED, fd, 0);
    char *c = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(r != MAP_FAILED && c != MAP_FAILED);
    CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) == 0);
    FAILS(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), EPERM);
    CHECK(munmap(r, P) == 0 && munmap(c, P) == 0);
    return 0;
}

static int memfd_default_sealed(void)
{
    int fd = memfd_create("buf", 0);
    CHECK(fd >= 0 && fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL && fcntl(fd, F_GETFD) == 0);
    FAILS(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), EPERM);
    return 0;
}

static int memfd_errors(void)
{
    char longname[251];
    memset(longname, 'n', 250);
    longname[250] = 0;
    FAILS(memfd_create("buf", 8), EINVAL);
    FAILS(memfd_create(longname, 0), EINVAL);
    FAILS(fcntl(0, F_GET_SEALS), EINVAL);
    int a = shm_open(SHM_ANON, O_RDWR, 0600);
    CHECK(a >= 0);
    FAILS(fcntl(a, F_GET_SEALS), EINVAL);
    return 0;
}

/* /dev/shmem/new (PatchworkOS's device; kernel/src/pshm_tests.rs dn_dev_shmem_new) */

static int dn_01_04_05_18(void)
{
    struct stat st;
    int f = open("/dev/shmem/new", O_RDWR);
    CHECK(f >= 0 && fstat(f, &st) == 0 && st.st_size == 0); /* DN-01 */
    int rw = PROT_READ | PROT_WRITE;
    FAILS(mmap(NULL, 0, rw, MAP_SHARED, f, 0), EINVAL);           /* DN-04 */
    FAILS(mmap(NULL, P, rw, MAP_SHARED, f, P), EINVAL);           /* DN-05 */
    FAILS(mmap(NULL, P, PROT_WRITE, MAP_SHARED, f, 0), EINVAL);   /* DN-18 */
    CHECK(fstat(f, &st) == 0 && st.st_size == 0);
    return 0;
}

static int dn_02_03_06(void)
{
    struct stat st;
    int rw = PROT_READ | PROT_WRITE;
    int f1 = open("/dev/shmem/new", O_RDWR), f2 = open("/dev/shmem/new", O_RDWR);
    CHECK(f1 >= 0 && f2 >= 0);
    char *a = mmap(NULL, 3 * P + 1, rw, MAP_SHARED, f1, 0);
    CHECK(a != MAP_FAILED && fstat(f1, &st) == 0 && st.st_size == 4 * P); /* DN-03 */
    CHECK(all_bytes(a, 4 * P, 0));
    char *b = mmap(NULL, P, rw, MAP_SHARED, f2, 0);
    CHECK(b != MAP_FAILED);
    a[0] = 3;
    CHECK(b[0] == 0); /* DN-02 */
    char *c = mmap(NULL, 4 * P, rw, MAP_SHARED, f1, 0);
    CHECK(c != MAP_FAILED && c != a && c[0] == 3); /* DN-06 */
    CHECK(munmap(a, 4 * P) == 0 && munmap(b, P) == 0 && munmap(c, 4 * P) == 0);
    return 0;
}

static int dn_09_11_17(void)
{
    int rw = PROT_READ | PROT_WRITE;
    int f = open("/dev/shmem/new", O_RDWR);
    char *a = mmap(NULL, 4 * P, rw, MAP_SHARED, f, 0);
    CHECK(f >= 0 && a != MAP_FAILED);
    FAILS(mmap(NULL, 6 * P, rw, MAP_SHARED, f, 0), ENXIO);   /* DN-09 */
    FAILS(mmap(NULL, P, rw, MAP_SHARED, f, 4 * P), ENXIO);   /* DN-11 */
    FAILS(mmap(NULL, P, rw, MAP_SHARED, f, 100), EINVAL);
    FAILS(ftruncate(f, 8 * P), EINVAL);                      /* DN-17 */
    FAILS(pwrite(f, "x", 1, 4 * P), ENOSPC);
    a[2 * P] = 8;
    char b;
    CHECK(pread(f, &b, 1, 2 * P) == 1 && b == 8);
    CHECK(munmap(a, 4 * P) == 0);
    return 0;
}

/* ============ Chunk/signal channels (channels-heap.md section 9) ============ */

#define CHUNK_MAGIC 0xfedcba98u

static int l4_02(void)
{
    const char *n = area_name("a2");
    CHECK(l4shmc_create(n, (l4_umword_t)LONG_MAX + 1) == -ENOMEM);
    CHECK(l4shmc_create(n, ULONG_MAX) == -ENOMEM);
    char obj[20];
    snprintf(obj, sizeof obj, "/%s", n);
    FAILS(shm_open(obj, O_RDONLY, 0), ENOENT);
    return 0;
}

static int l4_04_05(void)
{
    const char *n = area_name("a4");
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    l4_umword_t mask = 1;
    const char *nm = NULL;
    CHECK(l4shmc_create(n, 65536) == 0 && l4shmc_attach(n, &a) == 0);
    CHECK(l4shmc_get_client_nr(&a) == 0 && l4shmc_area_size(&a) == 65536);
    CHECK(l4shmc_get_initialized_clients(&a, &mask) == 0 && mask == 0);
    CHECK(l4shmc_iterate_chunk(&a, &nm, 0) == 0); /* no chunks */
    CHECK(l4shmc_area_overhead() == 48 && l4shmc_area_size_free(&a) == 65536 - 48);
    CHECK(l4shmc_add_chunk(&a, "c", 64, &c) == 0);
    CHECK(l4shmc_create(n, 65536) == 0); /* a second create is harmless */
    CHECK(l4shmc_iterate_chunk(&a, &nm, 0) > 0 && strcmp(nm, "c") == 0);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_06(void)
{
    const char *n = area_name("a6");
    l4shmc_area_t a;
    CHECK(l4shmc_attach(n, &a) == -ENOENT);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(l4shmc_attach_to(n, 300, &a) == -ENOENT);
    long ms = ms_since(&t0);
    snprintf(why, sizeof why, "attach_to took %ld ms", ms);
    CHECK(ms >= 300 && ms < 10000);
    return 0;
}

/* L4-07 and L4-08 across processes: the child attaches as client 1. */
static int l4_07_08(void)
{
    const char *n = area_name("a7");
    l4shmc_area_t a, again;
    l4_umword_t mask = 0;
    CHECK(l4shmc_create(n, 4096) == 0 && l4shmc_attach(n, &a) == 0);
    CHECK(l4shmc_get_client_nr(&a) == 0 && l4shmc_mark_client_initialized(&a) == 0);
    CHECK(exited0(run_child("l407", n, NULL)));
    CHECK(l4shmc_get_initialized_clients(&a, &mask) == 0 && mask == 3);
    CHECK(l4shmc_attach(n, &again) == 0 && l4shmc_get_client_nr(&again) == 2);
    CHECK(l4shmc_detach(&again) == 0 && l4shmc_detach(&a) == 0);
    return 0;
}

static int child_l407(const char *n)
{
    l4shmc_area_t a;
    l4_umword_t mask = 0;
    if (l4shmc_attach(n, &a) != 0 || l4shmc_get_client_nr(&a) != 1)
        return 60;
    if (l4shmc_get_initialized_clients(&a, &mask) != 0 || mask != 1)
        return 61;
    if (l4shmc_mark_client_initialized(&a) != 0)
        return 62;
    return l4shmc_detach(&a) == 0 ? 0 : 63;
}

static int l4_09(void)
{
    static l4shmc_area_t all[65];
    const char *n = area_name("a9");
    int got = 0, ok = 1;
    CHECK(l4shmc_create(n, 4096) == 0);
    for (; got < 65 && ok; got++)
        ok = l4shmc_attach(n, &all[got]) == 0;
    if (ok) {
        ok = l4shmc_get_client_nr(&all[64]) == 64 &&
             l4shmc_mark_client_initialized(&all[64]) == -EINVAL &&
             l4shmc_mark_client_initialized(&all[63]) == 0;
        l4_umword_t mask = 0;
        ok = ok && l4shmc_get_initialized_clients(&all[0], &mask) == 0 && mask == 1UL << 63;
    }
    for (int i = 0; i < got; i++)
        l4shmc_detach(&all[i]);
    CHECK(ok && got == 65);
    return 0;
}

/* A fresh area of `size` bytes, attached to `a`. */
static int fresh_area(const char *tag, l4_umword_t size, l4shmc_area_t *a)
{
    const char *n = area_name(tag);
    return l4shmc_create(n, size) == 0 && l4shmc_attach(n, a) == 0 ? 0 : -1;
}

static int l4_10(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    CHECK(fresh_area("b0", 65536, &a) == 0 && l4shmc_add_chunk(&a, "one", 1024, &c) == 0);
    CHECK(l4shmc_chunk_capacity(&c) == 1024 && l4shmc_chunk_size(&c) == 0);
    CHECK(l4shmc_is_chunk_clear(&c) == 1 && l4shmc_check_magic(&c) == 1);
    char *p = l4shmc_chunk_ptr(&c), *base = a._base;
    CHECK(p >= base + l4shmc_area_overhead() && p + 1024 <= base + 65536);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_11(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    CHECK(fresh_area("b1", 65536, &a) == 0);
    CHECK(l4shmc_add_chunk(&a, "odd", 13, &c) == 0 && l4shmc_chunk_capacity(&c) == 16);
    CHECK(l4shmc_add_chunk(&a, "eight", 8, &c) == 0 && l4shmc_chunk_capacity(&c) == 8);
    CHECK(l4shmc_add_chunk(&a, "zero", 0, &c) == 0 && l4shmc_chunk_capacity(&c) == 0);
    CHECK(l4shmc_get_chunk(&a, "odd", &c) == 0 && l4shmc_chunk_capacity(&c) == 16);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_12(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    l4shmc_signal_t s;
    CHECK(fresh_area("b2", 65536, &a) == 0 && l4shmc_add_chunk(&a, "one", 64, &c) == 0);
    long free = l4shmc_area_size_free(&a);
    CHECK(l4shmc_add_chunk(&a, "one", 8, &c) == -EEXIST && l4shmc_area_size_free(&a) == free);
    CHECK(l4shmc_add_signal(&a, "one", &s) == 0); /* signals have their own names */
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_13(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    l4shmc_signal_t s;
    const char *nm;
    CHECK(fresh_area("b3", 65536, &a) == 0);
    CHECK(l4shmc_add_chunk(&a, "abcdefghijklmnopqrst", 8, &c) == -EINVAL);
    CHECK(l4shmc_get_chunk(&a, "abcdefghijklmnopqrst", &c) == -EINVAL);
    CHECK(l4shmc_add_chunk(&a, "abcdefghijklmnop", 8, &c) == -EINVAL);
    CHECK(l4shmc_add_chunk(&a, "abcdefghijklmno", 8, &c) == 0);
    CHECK(l4shmc_add_chunk(&a, "abcdefghijklmnopq", 8, &c) == -EINVAL); /* never truncated */
    CHECK(l4shmc_add_signal(&a, "abcdefghijklmnopqrst", &s) == -EINVAL);
    CHECK(l4shmc_add_chunk(&a, "", 8, &c) == -EINVAL);
    long it = l4shmc_iterate_chunk(&a, &nm, 0);
    CHECK(it > 0 && strcmp(nm, "abcdefghijklmno") == 0 && l4shmc_iterate_chunk(&a, &nm, it) == 0);
    CHECK(L4SHMC_NAME_SIZE == 15 && l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_14_15(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    CHECK(fresh_area("b4", 4096, &a) == 0 && l4shmc_add_chunk(&a, "a", 1000, &c) == 0);
    long free = l4shmc_area_size_free(&a);
    CHECK(l4shmc_add_chunk(&a, "b", (l4_umword_t)free, &c) == -ENOMEM); /* L4-14 */
    CHECK(l4shmc_area_size_free(&a) == free);
    CHECK(l4shmc_add_chunk(&a, "h", 1UL << 63, &c) == -ENOMEM); /* L4-15 */
    CHECK(l4shmc_add_chunk(&a, "h", ULONG_MAX, &c) == -ENOMEM);
    CHECK(l4shmc_add_chunk(&a, "h", ULONG_MAX - 7, &c) == -ENOMEM);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_16_17(void)
{
    static const struct {
        const char *tag;
        l4_umword_t size;
    } areas[] = {{"c0", 65536}, {"c1", 4099}, {"c2", 200}};
    CHECK(l4shmc_chunk_overhead() == 64 + 8); /* L4-17: a descriptor and the round-up */
    for (int i = 0; i < 3; i++) {
        l4shmc_area_t a;
        l4shmc_chunk_t c;
        l4shmc_signal_t s;
        long usable = (long)(areas[i].size & ~7UL), ov = l4shmc_chunk_overhead();
        CHECK(fresh_area(areas[i].tag, areas[i].size, &a) == 0);
        CHECK(l4shmc_area_size_free(&a) == usable - 48);
        CHECK(l4shmc_add_chunk(&a, "small", 13, &c) == 0);
        CHECK(l4shmc_area_size_free(&a) == usable - 48 - 64 - 16);
        long free = l4shmc_area_size_free(&a);
        CHECK(l4shmc_add_chunk(&a, "x", (l4_umword_t)(free - ov), &c) == 0);
        CHECK(l4shmc_chunk_capacity(&c) >= free - ov && l4shmc_area_size_free(&a) < ov);
        CHECK(l4shmc_add_chunk(&a, "y", 1, &c) == -ENOMEM);
        CHECK(l4shmc_add_signal(&a, "s", &s) == -ENOMEM);
        CHECK(l4shmc_detach(&a) == 0);
    }
    return 0;
}

/* L4-18: another process gets the chunk and sees the data. */
static int l4_18(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    CHECK(fresh_area("c8", 65536, &a) == 0 && l4shmc_add_chunk(&a, "one", 100, &c) == 0);
    memcpy(l4shmc_chunk_ptr(&c), "from p1", 7);
    CHECK(exited0(run_child("l418", names[nnames - 1] + 1, NULL)));
    CHECK(memcmp(l4shmc_chunk_ptr(&c), "from p2", 7) == 0);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int child_l418(const char *n)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    if (l4shmc_attach(n, &a) != 0 || l4shmc_get_chunk(&a, "one", &c) != 0)
        return 70;
    if (l4shmc_chunk_capacity(&c) != 104 || memcmp(l4shmc_chunk_ptr(&c), "from p1", 7) != 0)
        return 71;
    memcpy(l4shmc_chunk_ptr(&c), "from p2", 7);
    return l4shmc_detach(&a) == 0 ? 0 : 72;
}

static int l4_20(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    l4shmc_signal_t s;
    static const char *want[] = {"a", "b", "c"};
    CHECK(fresh_area("d0", 65536, &a) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(l4shmc_add_chunk(&a, want[i], 8, &c) == 0 &&
              l4shmc_add_signal(&a, want[i], &s) == 0); /* signals are skipped */
    long it = 0;
    for (int i = 0; i < 3; i++) {
        const char *nm = NULL;
        it = l4shmc_iterate_chunk(&a, &nm, it);
        CHECK(it > 0 && nm && strcmp(nm, want[i]) == 0);
        char *base = a._base; /* a copy in the handle, not a pointer into the area */
        CHECK(nm < base || nm >= base + 65536);
    }
    const char *nm = NULL;
    CHECK(l4shmc_iterate_chunk(&a, &nm, it) == 0);
    CHECK(l4shmc_iterate_chunk(&a, &nm, -1) == -EINVAL);
    CHECK(l4shmc_iterate_chunk(&a, &nm, 12345) < 0);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

/* L4-22..L4-26: the chunk states, also read from the descriptor in the area (K-14). */
static int l4_22_to_26(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c, big;
    CHECK(fresh_area("d2", 4096, &a) == 0 && l4shmc_add_chunk(&a, "data", 64, &c) == 0);
    volatile uint32_t *desc = (uint32_t *)((char *)l4shmc_chunk_ptr(&c) - 64);
    CHECK(desc[0] == CHUNK_MAGIC && desc[1] == 0); /* CLEAR */
    CHECK(strcmp((const char *)desc + 40, "data") == 0);
    CHECK(l4shmc_chunk_consumed(&c) == -EPERM && l4shmc_chunk_ready(&c, 1) == -EPERM);
    CHECK(l4shmc_chunk_try_to_take(&c) == 0 && desc[1] == 1); /* L4-22: BUSY */
    CHECK(l4shmc_is_chunk_clear(&c) == 0 && l4shmc_is_chunk_ready(&c) == 0);
    CHECK(l4shmc_chunk_try_to_take(&c) == -EPERM && desc[1] == 1); /* L4-23 */
    CHECK(l4shmc_chunk_consumed(&c) == -EPERM);
    CHECK(l4shmc_chunk_ready(&c, 100) == -EINVAL && desc[1] == 1); /* L4-25 */
    CHECK(l4shmc_chunk_size(&c) == 0);
    CHECK(l4shmc_chunk_ready(&c, 64) == 0 && desc[1] == 2); /* L4-24: READY */
    CHECK(l4shmc_is_chunk_ready(&c) == 1 && l4shmc_chunk_size(&c) == 64);
    CHECK(l4shmc_chunk_try_to_take(&c) == -EPERM && desc[1] == 2);
    CHECK(l4shmc_chunk_consumed(&c) == 0 && desc[1] == 0); /* L4-26 */
    CHECK(l4shmc_is_chunk_clear(&c) == 1 && l4shmc_chunk_try_to_take(&c) == 0);
    CHECK(l4shmc_add_chunk(&a, "big", 128, &big) == 0 && l4shmc_chunk_try_to_take(&big) == 0);
    CHECK(l4shmc_chunk_ready(&big, 100) == 0 && l4shmc_chunk_size(&big) == 100);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_28(void)
{
    l4shmc_area_t a;
    l4shmc_signal_t s;
    CHECK(fresh_area("d8", 4096, &a) == 0);
    CHECK(l4shmc_get_signal(&a, "nope", &s) == -ENOENT);
    CHECK(l4shmc_get_signal_to(&a, "nope", 30, &s) == -ENOENT);
    CHECK(l4shmc_attach_signal(&a, "nope", 0, &s) == -ENOENT);
    CHECK(l4shmc_attach_signal_to(&a, "nope", 0, 30, &s) == -ENOENT);
    CHECK(l4shmc_add_signal(&a, "nope", &s) == 0 && l4shmc_attach_signal(&a, "nope", 0, &s) == 0);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_29(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    l4shmc_signal_t s;
    CHECK(fresh_area("d9", 4096, &a) == 0);
    CHECK(l4shmc_add_chunk(&a, "c", 64, &c) == 0 && l4shmc_add_signal(&a, "s", &s) == 0);
    CHECK(l4shmc_chunk_signal(&c) == NULL);
    CHECK(l4shmc_connect_chunk_signal(&c, &s) == 0 && l4shmc_chunk_signal(&c) == &s);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_31(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    CHECK(fresh_area("e1", 4096, &a) == 0 && l4shmc_add_chunk(&a, "c", 64, &c) == 0);
    CHECK(l4shmc_chunk_try_to_take(&c) == 0);
    CHECK(l4shmc_chunk_ready_sig(&c, 8) == -EINVAL && l4shmc_is_chunk_ready(&c) == 0);
    CHECK(l4shmc_wait_chunk(&c) == -EINVAL && l4shmc_wait_chunk_try(&c) == -EINVAL);
    CHECK(l4shmc_wait_chunk_to(&c, 10) == -EINVAL && l4shmc_enable_chunk(&c) == -EINVAL);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_32(void)
{
    l4shmc_area_t a;
    l4shmc_chunk_t c;
    l4shmc_signal_t s, *ret = NULL;
    CHECK(fresh_area("e2", 4096, &a) == 0 && l4shmc_add_signal(&a, "s", &s) == 0);
    CHECK(l4shmc_add_chunk(&a, "c", 64, &c) == 0 && l4shmc_connect_chunk_signal(&c, &s) == 0);
    CHECK(l4shmc_wait_signal_try(&s) == -ETIMEDOUT);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(l4shmc_wait_chunk_to(&c, 100) == -ETIMEDOUT);
    long ms = ms_since(&t0);
    snprintf(why, sizeof why, "wait_chunk_to(100) took %ld ms", ms);
    CHECK(ms >= 100 && ms < 10000);
    CHECK(l4shmc_enable_signal(&s) == 0 && l4shmc_wait_any_try(&ret) == -ETIMEDOUT);
    CHECK(l4shmc_wait_any_to(30, &ret) == -ETIMEDOUT && l4shmc_disable_signal(&s) == 0);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int l4_33(void)
{
    l4shmc_area_t a;
    l4shmc_signal_t consumer, producer, late;
    CHECK(fresh_area("e3", 4096, &a) == 0 && l4shmc_add_signal(&a, "s", &consumer) == 0);
    CHECK(l4shmc_get_signal(&a, "s", &producer) == 0 && l4shmc_trigger(&producer) == 0);
    CHECK(l4shmc_wait_signal_try(&consumer) == 0);
    CHECK(l4shmc_wait_signal_try(&consumer) == -ETIMEDOUT);
    CHECK(l4shmc_trigger(&producer) == 0 && l4shmc_trigger(&producer) == 0);
    CHECK(l4shmc_wait_signal_to(&consumer, 100) == 0 && l4shmc_wait_signal(&consumer) == 0);
    CHECK(l4shmc_wait_signal_try(&consumer) == -ETIMEDOUT);
    CHECK(l4shmc_get_signal(&a, "s", &late) == 0 && l4shmc_wait_signal_try(&late) == -ETIMEDOUT);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

/* L4-34: wait_any over three signals; another process triggers the second. */
static int l4_34(void)
{
    l4shmc_area_t a;
    l4shmc_signal_t s[3], *ret = NULL;
    static const char *sn[] = {"s0", "s1", "s2"};
    CHECK(fresh_area("e4", 4096, &a) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(l4shmc_add_signal(&a, sn[i], &s[i]) == 0 && l4shmc_enable_signal(&s[i]) == 0);
    CHECK(l4shmc_wait_any_try(&ret) == -ETIMEDOUT);
    pid_t pid = spawn_child(NULL, "l434", names[nnames - 1] + 1, NULL);
    CHECK(pid > 0);
    long r = l4shmc_wait_any_to(20000, &ret);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && exited0(st));
    CHECK(r == 0 && ret == &s[1]);
    CHECK(l4shmc_trigger(&s[2]) == 0 && l4shmc_wait_any(&ret) == 0 && ret == &s[2]);
    CHECK(l4shmc_wait_any_to(20, &ret) == -ETIMEDOUT);
    for (int i = 0; i < 3; i++)
        CHECK(l4shmc_disable_signal(&s[i]) == 0);
    CHECK(l4shmc_detach(&a) == 0);
    return 0;
}

static int child_l434(const char *n)
{
    l4shmc_area_t a;
    l4shmc_signal_t s;
    if (l4shmc_attach(n, &a) != 0 || l4shmc_get_signal(&a, "s1", &s) != 0)
        return 80;
    usleep(50000); /* let the parent block first */
    return l4shmc_trigger(&s) == 0 && l4shmc_detach(&a) == 0 ? 0 : 81;
}

static int l4_35(void)
{
    l4shmc_area_t a;
    char n15[16];
    snprintf(n15, sizeof n15, "cc%013d", (int)getpid());
    CHECK(l4shmc_create("abcdefghijklmnop", 4096) == -EINVAL);
    CHECK(l4shmc_attach("abcdefghijklmnop", &a) == -EINVAL);
    CHECK(l4shmc_attach_to("abcdefghijklmnop", 10, &a) == -EINVAL);
    FAILS(shm_open("/abcdefghijklmno", O_RDONLY, 0), ENOENT);
    CHECK(l4shmc_create("a/b", 4096) == -EINVAL && l4shmc_create("", 4096) == -EINVAL);
    snprintf(names[nnames++], sizeof names[0], "/%s", n15);
    CHECK(l4shmc_create(n15, 4096) == 0 && l4shmc_attach(n15, &a) == 0);
    CHECK(l4shmc_detach(&a) == 0 && l4shmc_unlink(n15) == 0);
    return 0;
}

/* The C handle structures: the library never writes past the sizes l4shmc.h gives them. */
static int l4shmc_structs(void)
{
    struct {
        l4shmc_area_t a;
        unsigned char guard_a[64];
        l4shmc_chunk_t c;
        unsigned char guard_c[64];
        l4shmc_signal_t s;
        unsigned char guard_s[64];
    } h;
    CHECK(sizeof(l4shmc_area_t) == 64 && sizeof(l4shmc_chunk_t) == 32);
    CHECK(sizeof(l4shmc_signal_t) == 24);
    memset(&h, 0xa5, sizeof h);
    const char *n = area_name("f0");
    CHECK(l4shmc_create(n, 8192) == 0 && l4shmc_attach(n, &h.a) == 0);
    CHECK(l4shmc_add_chunk(&h.a, "abcdefghijklmno", 64, &h.c) == 0);
    CHECK(l4shmc_add_signal(&h.a, "abcdefghijklmno", &h.s) == 0);
    const char *nm;
    CHECK(l4shmc_iterate_chunk(&h.a, &nm, 0) > 0); /* fills the name copy in the area struct */
    CHECK(l4shmc_connect_chunk_signal(&h.c, &h.s) == 0);
    CHECK(l4shmc_get_chunk(&h.a, "abcdefghijklmno", &h.c) == 0);
    CHECK(l4shmc_get_signal(&h.a, "abcdefghijklmno", &h.s) == 0);
    CHECK(all_bytes(h.guard_a, 64, 0xa5) && all_bytes(h.guard_c, 64, 0xa5));
    CHECK(all_bytes(h.guard_s, 64, 0xa5));
    CHECK(h.a._size == 8192 && h.a._client_nr == 0 && h.c._capacity == 64);
    CHECK(l4shmc_detach(&h.a) == 0);
    return 0;
}

/* ================== Shared heap (channels-heap.md section 10) ================== */

#define OVERHEAD 64 /* shmheap's bookkeeping before the first payload */

static shmheap_memory_handle new_heap(const char *tag, size_t len)
{
    const char *n = obj_name(tag);
    return shmheap_create(n, len);
}

static size_t off(shmheap_memory_handle h, const void *p)
{
    return (size_t)((const char *)p - (const char *)h.base);
}

static int sh_01(void)
{
    size_t len = 4 * P;
    const char *n = obj_name("sh01");
    shmheap_memory_handle h = shmheap_create(n, len);
    CHECK(h.base != NULL && h.len == len && (uintptr_t)h.base % P == 0);
    CHECK(shmheap_underlying(h) == h.base);
    int fd = shm_open(n, O_RDWR, 0);
    CHECK(fd >= 0 && close(fd) == 0);
    char *p = shmheap_alloc(h, len - 80);
    CHECK(p != NULL);
    memset(p, 0xa5, len - 80);
    CHECK(all_bytes(p, len - 80, 0xa5));
    shmheap_destroy(n, h);
    return 0;
}

/* SH-02, SH-16, SH-18, SH-19: another process, mapping the heap at another address. */
static int sh_02_16_18_19(void)
{
    const char *n = obj_name("sh02");
    shmheap_memory_handle h = shmheap_create(n, 4 * P);
    CHECK(h.base != NULL);
    char *p = shmheap_alloc(h, 256), *after = shmheap_alloc(h, 16);
    CHECK(p && after);
    memset(p, 0x22, 256);
    shmheap_object_handle hdl = shmheap_ptr_to_handle(h, p);
    CHECK(hdl.offset == off(h, p));
    char arg[64];
    snprintf(arg, sizeof arg, "%llx:%llx", (unsigned long long)hdl.offset,
             (unsigned long long)(uintptr_t)h.base);
    CHECK(exited0(run_child("sh02", n, arg)));
    /* The child saw 0x22, wrote 0x33 in the first half and freed the object (SH-16). */
    CHECK(all_bytes(p, 100, 0x33));
    CHECK(shmheap_handle_to_ptr(h, hdl) == NULL && shmheap_errno() == EINVAL);
    CHECK(shmheap_alloc(h, 256) == p); /* the space is reused */
    shmheap_destroy(n, h);
    return 0;
}

static int child_sh02(const char *n, const char *arg)
{
    unsigned long long o = 0, pbase = 0;
    if (sscanf(arg, "%llx:%llx", &o, &pbase) != 2)
        return 90;
    /* Map something first, so that the heap lands at another base (SH-19). */
    if (mmap(NULL, 3 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
        return 91;
    shmheap_memory_handle h = shmheap_connect(n);
    if (!h.base || h.len != 4 * P || (uintptr_t)h.base == pbase)
        return 92;
    shmheap_object_handle hdl = {o};
    char *p = shmheap_handle_to_ptr(h, hdl);
    if (!p || off(h, p) != o || !all_bytes(p, 256, 0x22)) /* SH-18 */
        return 93;
    memset(p, 0x33, 100);
    if (shmheap_ptr_to_handle(h, p).offset != o)
        return 94;
    shmheap_free(h, p);
    if (shmheap_handle_to_ptr(h, hdl) != NULL)
        return 95;
    shmheap_disconnect(h);
    return 0;
}

static int sh_03_22(void)
{
    const char *n = obj_name("sh03");
    shmheap_memory_handle h = shmheap_create(n, 4 * P);
    CHECK(h.base != NULL);
    shmheap_memory_handle h2 = shmheap_connect(n);
    CHECK(h2.base != NULL && h2.base != h.base);
    char *p = shmheap_alloc(h2, 48);
    CHECK(p != NULL);
    memset(p, 0x22, 48);
    shmheap_object_handle hdl = shmheap_ptr_to_handle(h2, p);
    shmheap_disconnect(h2);
    FAILS(mprotect(h2.base, P, PROT_READ), ENOMEM); /* SH-03: unmapped */
    h2 = shmheap_connect(n);                         /* SH-22 */
    CHECK(h2.base != NULL && all_bytes(shmheap_handle_to_ptr(h2, hdl), 48, 0x22));
    CHECK(all_bytes(shmheap_handle_to_ptr(h, hdl), 48, 0x22));
    shmheap_disconnect(h2);
    shmheap_destroy(n, h);
    return 0;
}

static int sh_04(void)
{
    const char *n = obj_name("sh04");
    shmheap_memory_handle h = shmheap_create(n, 4 * P);
    CHECK(h.base != NULL);
    shmheap_destroy(n, h);
    FAILS(mprotect(h.base, P, PROT_READ), ENOMEM);
    FAILS(shm_open(n, O_RDWR, 0), ENOENT);
    CHECK(shmheap_connect(n).base == NULL && shmheap_errno() == ENOENT);
    return 0;
}

static int sh_05_07(void)
{
    size_t len = 4 * P;
    shmheap_memory_handle h = new_heap("sh05", len);
    CHECK(h.base != NULL);
    static const size_t sizes[] = {1, 7, 100, 1000, 4 * P - 80};
    for (int i = 0; i < 5; i++) {
        char *p = shmheap_alloc(h, sizes[i]);
        CHECK(p && off(h, p) >= OVERHEAD && off(h, p) + sizes[i] <= len);
        shmheap_free(h, p);
    }
    char *ps[60];
    for (int sz = 1; sz <= 60; sz++) { /* SH-07 */
        ps[sz - 1] = shmheap_alloc(h, (size_t)sz);
        CHECK(ps[sz - 1] && off(h, ps[sz - 1]) % 8 == 0 && off(h, ps[sz - 1]) % 16 == 0);
    }
    return 0;
}

static int sh_06(void)
{
    size_t len = 4 * P;
    shmheap_memory_handle h = new_heap("sh06", len);
    CHECK(h.base != NULL);
    char *p = shmheap_alloc(h, len - 80);
    CHECK(p != NULL);
    shmheap_free(h, p);
    p = shmheap_alloc(h, len - OVERHEAD);
    CHECK(p != NULL);
    CHECK(shmheap_alloc(h, 1) == NULL && shmheap_errno() == ENOMEM);
    shmheap_free(h, p);
    CHECK(shmheap_alloc(h, len - OVERHEAD + 1) == NULL && shmheap_errno() == ENOMEM);
    return 0;
}

static int sh_09(void)
{
    shmheap_memory_handle h = new_heap("sh09", 4 * P);
    CHECK(h.base != NULL);
    char *a = shmheap_alloc(h, 64), *b = shmheap_alloc(h, 64), *c = shmheap_alloc(h, 64);
    CHECK(a && b && c);
    shmheap_free(h, b);
    CHECK(shmheap_alloc(h, 32) == b);
    return 0;
}

static int sh_10(void)
{
    shmheap_memory_handle h = new_heap("sh10", 4 * P);
    CHECK(h.base != NULL);
    char *h1 = shmheap_alloc(h, 128), *x = shmheap_alloc(h, 16);
    char *h2 = shmheap_alloc(h, 32), *y = shmheap_alloc(h, 16);
    CHECK(h1 && x && h2 && y);
    shmheap_free(h, h1);
    shmheap_free(h, h2);
    CHECK(h1 < h2 && shmheap_alloc(h, 32) == h1);
    return 0;
}

static int sh_11(void)
{
    shmheap_memory_handle h = new_heap("sh11", 4 * P);
    CHECK(h.base != NULL);
    char *a = shmheap_alloc(h, 32), *x = shmheap_alloc(h, 16);
    CHECK(a && x);
    shmheap_free(h, a);
    char *d = shmheap_alloc(h, 64);
    CHECK(d > x && shmheap_alloc(h, 32) == a);
    return 0;
}

/* SH-12..14: three neighbouring 64-byte objects, something after them, freed in `order`. */
static int sh_merge(const char *tag, const int *order, int nfree, size_t want)
{
    shmheap_memory_handle h = new_heap(tag, 4 * P);
    CHECK(h.base != NULL);
    char *o[3];
    for (int i = 0; i < 3; i++)
        CHECK((o[i] = shmheap_alloc(h, 64)) != NULL);
    CHECK(shmheap_alloc(h, 16) != NULL);
    for (int i = 0; i < nfree; i++)
        shmheap_free(h, o[order[i]]);
    CHECK(shmheap_alloc(h, want) == o[0]);
    return 0;
}

static int sh_12(void)
{
    static const int order[] = {1, 0};
    return sh_merge("sh12", order, 2, 128);
}

static int sh_13(void)
{
    static const int order[] = {0, 1};
    return sh_merge("sh13", order, 2, 128);
}

static int sh_14(void)
{
    static const int order[] = {0, 2, 1};
    return sh_merge("sh14", order, 3, 192);
}

static int sh_15(void)
{
    size_t len = 24 * P;
    shmheap_memory_handle h = new_heap("sh15", len);
    CHECK(h.base != NULL);
    char *ps[100];
    int n = 100;
    for (int i = 0; i < n; i++)
        CHECK((ps[i] = shmheap_alloc(h, 1 + (size_t)i * 13)) != NULL);
    for (int i = 0; n > 0;) { /* free in a scrambled order */
        i = (i + 7) % n;
        shmheap_free(h, ps[i]);
        ps[i] = ps[--n];
    }
    CHECK(shmheap_alloc(h, len - 80) != NULL);
    return 0;
}

static int sh_17(void)
{
    shmheap_memory_handle h = new_heap("sh17", 4 * P);
    CHECK(h.base != NULL && sizeof(shmheap_object_handle) == 8);
    CHECK(sizeof(shmheap_memory_handle) == 2 * sizeof(void *));
    static const size_t sizes[] = {1, 50, 500};
    for (int i = 0; i < 3; i++) {
        char *p = shmheap_alloc(h, sizes[i]);
        shmheap_object_handle hdl = shmheap_ptr_to_handle(h, p);
        CHECK(p && hdl.offset == off(h, p) && shmheap_handle_to_ptr(h, hdl) == p);
    }
    return 0;
}

/* The heap's bytes, but the lock's (its words change with every call). */
static void snapshot(shmheap_memory_handle h, unsigned char *to)
{
    memcpy(to, h.base, h.len);
    memset(to + 32, 0, 16);
}

static int sh_23_24(int which)
{
    size_t len = 4 * P;
    shmheap_memory_handle h = new_heap(which == 23 ? "sh23" : "sh24", len);
    CHECK(h.base != NULL);
    char *a = shmheap_alloc(h, 1000), *b = shmheap_alloc(h, 1000);
    CHECK(a && b);
    shmheap_free(h, a);
    static unsigned char before[4 * P], after[4 * P];
    snapshot(h, before);
    if (which == 23) {
        static const size_t sizes[] = {4 * P - 1000, 4 * P, SIZE_MAX, SIZE_MAX - 20};
        for (int i = 0; i < 4; i++)
            CHECK(shmheap_alloc(h, sizes[i]) == NULL && shmheap_errno() == ENOMEM);
    } else {
        shmheap_free(h, NULL);
    }
    snapshot(h, after);
    CHECK(memcmp(before, after, len) == 0);
    return 0;
}

static int sh_23(void)
{
    return sh_23_24(23);
}

static int sh_24(void)
{
    return sh_23_24(24);
}

/* ================================ The table ================================ */

/* A case: the catalogue ids it checks (separated by spaces) and the function. */
struct kase {
    const char *ids;
    int (*f)(void);
};

static const struct kase cases[] = {
    /* sysv-shm.md */
    {"K-06", k_06},
    {"SG-01", sg_01},
    {"SG-02", sg_02},
    {"SG-03", sg_03},
    {"SG-05", sg_05},
    {"SG-06", sg_06},
    {"SG-07", sg_07},
    {"SG-08", sg_08},
    {"SG-09", sg_09},
    {"SG-10", sg_10},
    {"SG-11", sg_11},
    {"SG-12", sg_12},
    {"SG-13", sg_13},
    {"SG-15", sg_15},
    {"SG-16", sg_16},
    {"SG-17", sg_17},
    {"SG-26", sg_26},
    {"SG-29", sg_29},
    {"SG-30", sg_30},
    {"SG-31", sg_31},
    {"SG-32", sg_32},
    {"SG-33", sg_33},
    {"SG-34", sg_34},
    {"SG-35 SC-20", sg_35},
    {"SG-36 SC-19", sg_36},
    {"SA-01", sa_01},
    {"SA-02", sa_02},
    {"SA-03", sa_03},
    {"SA-04", sa_04},
    {"SA-06", sa_06},
    {"SA-07", sa_07},
    {"SA-11", sa_11},
    {"SA-12", sa_12},
    {"SA-13", sa_13},
    {"SA-14 SC-21", sa_14},
    {"SA-17", sa_17},
    {"SA-21", sa_21},
    {"SA-23", sa_23},
    {"SA-25", sa_25},
    {"SD-01", sd_01},
    {"SD-03 SD-04 SD-05 SD-06 SD-07 SD-08", sd_03_to_08},
    {"SC-04 SC-29", sc_04},
    {"SC-06 SC-05", sc_06},
    {"SC-07", sc_07},
    {"SC-08", sc_08},
    {"SC-09", sc_09},
    {"SC-10", sc_10},
    {"SC-17 SC-22", sc_17},
    {"SC-18 SC-26", sc_18},
    {"SC-25 SC-24", sc_25},
    {"SC-28 SC-33", sc_28},
    {"SC-30", sc_30},
    {"SC-31", sc_31},
    {"SX-01 SX-03", sx_01},
    /* posix-shm.md */
    {"PO-01", po_01},
    {"PO-02", po_02},
    {"PO-03", po_03},
    {"PO-05", po_05},
    {"PO-06", po_06},
    {"PO-08", po_08},
    {"PO-11", po_11},
    {"PO-13", po_13},
    {"PO-16", po_16},
    {"PO-17", po_17},
    {"PO-18", po_18},
    {"PO-19", po_19},
    {"PO-21 PO-22 PO-23 PO-24", po_21_to_24},
    {"PO-26", po_26},
    {"PO-28", po_28},
    {"PO-33", po_33},
    {"PU-01 PU-06 PU-07", pu_01_06_07},
    {"PU-03", pu_03},
    {"PU-05", pu_05},
    {"PT-01", pt_01},
    {"PT-02", pt_02},
    {"PT-03", pt_03},
    {"PT-04 PT-05 PT-06 PT-09", pt_04_05_06_09},
    {"PT-07", pt_07},
    {"PT-08", pt_08},
    {"PM-03", pm_03},
    {"PM-07 PM-08 PM-09 PM-10 PM-13", pm_07_to_13},
    {"PM-11", pm_11},
    {"PM-14 PM-17 PM-18", pm_14_17_18},
    {"PM-16", pm_16},
    {"PM-20 PM-21 PM-22 PM-23 PM-24", pm_20_to_24},
    {"PF-01", pf_01},
    {"PF-03", pf_03},
    {"PF-04 PO-31", pf_04},
    {"PA-01 PA-04", pa_01_04},
    {"PA-02 PA-09", pa_02},
    {"PA-03", pa_03},
    {"PA-05", pa_05},
    {"memfd-cloexec", memfd_cloexec},
    {"memfd-seal-write-busy", memfd_seal_write_busy},
    {"memfd-seals", memfd_seals},
    {"memfd-default-sealed", memfd_default_sealed},
    {"memfd-errors", memfd_errors},
    {"DN-01 DN-04 DN-05 DN-18", dn_01_04_05_18},
    {"DN-02 DN-03 DN-06", dn_02_03_06},
    {"DN-09 DN-11 DN-17", dn_09_11_17},
    /* channels-heap.md section 9 */
    {"L4-02", l4_02},
    {"L4-04 L4-05", l4_04_05},
    {"L4-06", l4_06},
    {"L4-07 L4-08", l4_07_08},
    {"L4-09", l4_09},
    {"L4-10", l4_10},
    {"L4-11", l4_11},
    {"L4-12", l4_12},
    {"L4-13", l4_13},
    {"L4-14 L4-15", l4_14_15},
    {"L4-16 L4-17", l4_16_17},
    {"L4-18", l4_18},
    {"L4-20", l4_20},
    {"L4-22 L4-23 L4-24 L4-25 L4-26 K-14", l4_22_to_26},
    {"L4-28", l4_28},
    {"L4-29", l4_29},
    {"L4-31", l4_31},
    {"L4-32", l4_32},
    {"L4-33", l4_33},
    {"L4-34", l4_34},
    {"L4-35", l4_35},
    {"l4shmc-structs", l4shmc_structs},
    /* channels-heap.md section 10 */
    {"SH-01", sh_01},
    {"SH-02 SH-16 SH-18 SH-19", sh_02_16_18_19},
    {"SH-03 SH-22", sh_03_22},
    {"SH-04", sh_04},
    {"SH-05 SH-07", sh_05_07},
    {"SH-06 K-15", sh_06},
    {"SH-09", sh_09},
    {"SH-10", sh_10},
    {"SH-11", sh_11},
    {"SH-12", sh_12},
    {"SH-13", sh_13},
    {"SH-14", sh_14},
    {"SH-15", sh_15},
    {"SH-17", sh_17},
    {"SH-23", sh_23},
    {"SH-24", sh_24},
};

/* cconform --child WHAT [A [B]]: the other process of a case; exit status 0 is success. */
static int child(int argc, char **argv)
{
    const char *what = argv[2], *a = argc > 3 ? argv[3] : "", *b = argc > 4 ? argv[4] : "";
    if (strcmp(what, "sg31") == 0)
        return child_sg31();
    if (strcmp(what, "sa07") == 0)
        return child_sa07(atoi(a));
    if (strcmp(what, "sa25") == 0)
        return child_sa25((key_t)atoi(a));
    if (strcmp(what, "sx01") == 0)
        return child_sx01(atoi(a));
    if (strcmp(what, "pt03") == 0)
        return child_pt03(a);
    if (strcmp(what, "l407") == 0)
        return child_l407(a);
    if (strcmp(what, "l418") == 0)
        return child_l418(a);
    if (strcmp(what, "l434") == 0)
        return child_l434(a);
    if (strcmp(what, "sh02") == 0)
        return child_sh02(a, b);
    fprintf(stderr, "cconform: no child case %s\n", what);
    return 99;
}

/* Does one of the case's ids start with one of the prefixes? */
static int wanted(const char *ids, int argc, char **argv)
{
    if (argc == 1)
        return 1;
    for (const char *id = ids; *id; id += strcspn(id, " "), id += *id == ' ')
        for (int k = 1; k < argc; k++)
            if (strncmp(id, argv[k], strlen(argv[k])) == 0)
                return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child(argc, argv);
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!wanted(cases[i].ids, argc, argv))
            continue;
        why[0] = 0;
        errno = 0;
        int r = cases[i].f();
        sweep();
        /* One line per id, all with the case's outcome. */
        for (const char *id = cases[i].ids; *id; id += *id == ' ') {
            int n = (int)strcspn(id, " ");
            if (r == 0) {
                passed++;
                printf("PASS %.*s\n", n, id);
            } else {
                failed++;
                printf("FAIL %.*s: %s\n", n, id, why);
            }
            id += n;
        }
    }
    printf("cconform: %d passed, %d failed\n", passed, failed);
    return failed;
}

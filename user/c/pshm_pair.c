/* pshm_pair: two processes share a POSIX shared-memory object.
 *
 *   pshm_pair [ROUNDS]           ROUNDS request/reply exchanges (default 200)
 *
 * The parent makes "/pshm_pair.PID" with shm_open(O_CREAT | O_EXCL), sizes it with
 * ftruncate and maps it with mmap(MAP_SHARED); inside it lives a request and a reply
 * semaphore (sem_init with pshared 1) and a message area. It spawns itself with the name as
 * an argument; the child opens the same name, maps it at its own address, and answers every
 * request: the text upper-cased and the sum of the numbers that came with it. As soon as
 * the child has the object mapped the parent unlinks the name (shm_unlink): the name is gone
 * at once, while both mappings keep working until they are unmapped. Exit status 0 when
 * every reply was right, 1 with a message on stderr otherwise. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NUMS 16
#define WAIT_S 30 /* one wait for the other side, generous for a loaded machine */

struct shared {
    sem_t request; /* posted by the parent when a request is ready */
    sem_t reply;   /* posted by the child when the reply is ready */
    int round;     /* -1: the child should exit */
    int child_pid;
    long nums[NUMS];
    long sum;
    char text[64];
};

static const char *me = "pshm_pair";
static char name[64]; /* the parent's object name while it exists */

static void cleanup(void)
{
    if (name[0] && shm_unlink(name) == 0)
        name[0] = 0;
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

/* sem_wait with a deadline WAIT_S seconds away. */
static void wait_for(sem_t *s, const char *what)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += WAIT_S;
    while (sem_timedwait(s, &t) == -1) {
        if (errno != EINTR)
            die(what);
    }
}

static struct shared *map(int fd)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED)
        die("mmap");
    return s;
}

/* pshm_pair serve NAME: open the parent's object and answer until told to stop. */
static int serve(const char *obj)
{
    me = "pshm_pair child";
    int fd = shm_open(obj, O_RDWR, 0);
    if (fd == -1)
        die("shm_open");
    struct stat st;
    if (fstat(fd, &st) == -1)
        die("fstat");
    if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct shared))
        fail("%s: mode %o, size %ld", obj, (unsigned)st.st_mode, (long)st.st_size);
    struct shared *s = map(fd);
    if (close(fd) == -1) /* the mapping holds its own reference */
        die("close");
    s->child_pid = getpid();
    int answered = 0;
    for (;;) {
        if (sem_post(&s->reply) == -1) /* the first post says "mapped, ready" */
            die("sem_post");
        wait_for(&s->request, "wait for a request");
        if (s->round < 0)
            break;
        long sum = 0;
        for (int k = 0; k < NUMS; k++)
            sum += s->nums[k];
        s->sum = sum;
        for (char *c = s->text; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        answered++;
    }
    printf("child (pid %d): answered %d requests\n", (int)getpid(), answered);
    if (munmap(s, sizeof *s) == -1)
        die("munmap");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2]);
    long rounds = argc > 1 ? strtol(argv[1], NULL, 0) : 200;
    if (argc > 2 || rounds < 1 || rounds > 1000000) {
        fprintf(stderr, "usage: pshm_pair [ROUNDS]   (1 <= ROUNDS <= 1000000)\n");
        return 2;
    }

    atexit(cleanup);
    snprintf(name, sizeof name, "/pshm_pair.%d", (int)getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd == -1)
        die("shm_open");
    if (ftruncate(fd, sizeof(struct shared)) == -1)
        die("ftruncate");
    struct shared *s = map(fd);
    if (close(fd) == -1)
        die("close");
    if (sem_init(&s->request, 1, 0) == -1 || sem_init(&s->reply, 1, 0) == -1)
        die("sem_init");
    printf("parent (pid %d): %s, %zu bytes, mapped\n", (int)getpid(), name, sizeof *s);

    pid_t child;
    char *args[] = {argv[0], "serve", name, NULL};
    int e = posix_spawnp(&child, argv[0], NULL, NULL, args, NULL);
    if (e) {
        errno = e;
        die("posix_spawnp");
    }
    wait_for(&s->reply, "wait for the child to map the object");
    if (s->child_pid != child)
        fail("the child wrote pid %d, posix_spawnp said %d", s->child_pid, (int)child);

    /* Both have it mapped: the name can go now. */
    if (shm_unlink(name) == -1)
        die("shm_unlink");
    if (shm_open(name, O_RDONLY, 0) != -1 || errno != ENOENT)
        fail("%s can still be opened after shm_unlink", name);
    printf("parent: unlinked %s; both mappings still work\n", name);
    name[0] = 0;

    for (int i = 0; i < rounds; i++) {
        long want = 0;
        for (int k = 0; k < NUMS; k++) {
            s->nums[k] = (long)i * 1000 + k * k - 7;
            want += s->nums[k];
        }
        snprintf(s->text, sizeof s->text, "request %d from pid %d", i, (int)getpid());
        s->round = i;
        if (sem_post(&s->request) == -1)
            die("sem_post");
        wait_for(&s->reply, "wait for a reply");
        char upper[64];
        snprintf(upper, sizeof upper, "REQUEST %d FROM PID %d", i, (int)getpid());
        if (s->sum != want || strcmp(s->text, upper) != 0)
            fail("round %d: reply \"%s\", sum %ld (want \"%s\", %ld)", i, s->text, s->sum,
                 upper, want);
        if (i == 0)
            printf("parent: first reply: \"%s\", sum %ld\n", s->text, s->sum);
    }
    s->round = -1;
    if (sem_post(&s->request) == -1)
        die("sem_post");
    int st;
    if (waitpid(child, &st, 0) != child)
        die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("the child failed (wait status %#x)", (unsigned)st);
    printf("parent: %ld replies, all right; child exited 0\n", rounds);
    if (sem_destroy(&s->request) == -1 || sem_destroy(&s->reply) == -1)
        die("sem_destroy");
    if (munmap(s, sizeof *s) == -1)
        die("munmap");
    return 0;
}

/* memfd_pass: an unnamed memfd object handed to a child at a known descriptor number.
 *
 *   memfd_pass
 *
 * The parent makes an object with memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING), sizes it
 * (two pages), maps it, writes a question into the first page (a list of numbers and a
 * word), and seals it against shrinking, growing and further sealing (F_ADD_SEALS). It
 * spawns itself with posix_spawn_file_actions_adddup2(fd, 10): the child finds the object
 * at descriptor 10 (without FD_CLOEXEC, as dup2 leaves it), while the original descriptor,
 * which has FD_CLOEXEC, is not inherited. The child checks the seals (ftruncate is EPERM),
 * maps descriptor 10 and answers in the mapping (sum, minimum, maximum, the word reversed),
 * and writes a line of text with pwrite into the second page. The parent reads both
 * answers through its own mapping. The object has no name; it goes with the last descriptor
 * and mapping. Exit status 0 when the answers are right, 1 with a message otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_FD 10
#define NUMS 100
#define PAGE 4096
#define SIZE (2 * PAGE)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

struct question {
    int count;
    int nums[NUMS];
    char word[32];
    /* The child's answer. */
    int answered;
    long sum;
    int min, max;
    char reversed[32];
};

static const char *me = "memfd_pass";

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

/* memfd_pass answer ORIGFD: the object is at CHILD_FD; ORIGFD was the parent's number. */
static int answer(int orig)
{
    me = "memfd_pass child";
    int fd = CHILD_FD;
    int fl = fcntl(fd, F_GETFD);
    if (fl == -1)
        die("fcntl F_GETFD on descriptor 10");
    if (fl & FD_CLOEXEC)
        fail("descriptor %d has FD_CLOEXEC after dup2", fd);
    if (orig != fd && (fcntl(orig, F_GETFD) != -1 || errno != EBADF))
        fail("the parent's descriptor %d (FD_CLOEXEC) was inherited", orig);
    struct stat st;
    if (fstat(fd, &st) == -1)
        die("fstat");
    if (!S_ISREG(st.st_mode) || st.st_size != SIZE)
        fail("fstat: mode %o, size %ld", (unsigned)st.st_mode, (long)st.st_size);
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals != SEALS)
        fail("seals %#x, want %#x", (unsigned)seals, (unsigned)SEALS);
    if (ftruncate(fd, PAGE) != -1 || errno != EPERM)
        fail("ftruncate of a sealed object: not EPERM");
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) != -1 || errno != EPERM)
        fail("F_ADD_SEALS after F_SEAL_SEAL: not EPERM");

    struct question *q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (q == MAP_FAILED)
        die("mmap");
    if (q->count < 1 || q->count > NUMS)
        fail("question with %d numbers", q->count);
    q->sum = 0;
    q->min = q->max = q->nums[0];
    for (int i = 0; i < q->count; i++) {
        q->sum += q->nums[i];
        if (q->nums[i] < q->min)
            q->min = q->nums[i];
        if (q->nums[i] > q->max)
            q->max = q->nums[i];
    }
    size_t n = strnlen(q->word, sizeof q->word - 1);
    for (size_t i = 0; i < n; i++)
        q->reversed[i] = q->word[n - 1 - i];
    q->reversed[n] = 0;
    q->answered = getpid();

    char line[128];
    int len = snprintf(line, sizeof line, "pid %d read %d numbers through descriptor %d\n",
                       (int)getpid(), q->count, fd);
    if (pwrite(fd, line, (size_t)len + 1, PAGE) != len + 1)
        die("pwrite");
    if (munmap(q, PAGE) == -1 || close(fd) == -1)
        die("munmap/close");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "answer") == 0)
        return answer(atoi(argv[2]));
    if (argc > 1) {
        fprintf(stderr, "usage: memfd_pass\n");
        return 2;
    }

    int fd = memfd_create("memfd_pass", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd == -1)
        die("memfd_create");
    if (ftruncate(fd, SIZE) == -1)
        die("ftruncate");
    char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap");
    struct question *q = (struct question *)p;
    q->count = NUMS;
    long want = 0;
    for (int i = 0; i < NUMS; i++) {
        q->nums[i] = (i * 7919) % 1000 - 500;
        want += q->nums[i];
    }
    strcpy(q->word, "descriptor");
    if (fcntl(fd, F_ADD_SEALS, SEALS) == -1)
        die("fcntl F_ADD_SEALS");
    printf("parent (pid %d): memfd at descriptor %d, %d bytes, sealed %#x\n", (int)getpid(), fd,
           SIZE, (unsigned)fcntl(fd, F_GET_SEALS));

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (posix_spawn_file_actions_adddup2(&fa, fd, CHILD_FD) != 0)
        die("posix_spawn_file_actions_adddup2");
    char orig[16];
    snprintf(orig, sizeof orig, "%d", fd);
    char *args[] = {argv[0], "answer", orig, NULL};
    pid_t child;
    int e = posix_spawnp(&child, argv[0], &fa, NULL, args, NULL);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        errno = e;
        die("posix_spawnp");
    }
    int st;
    if (waitpid(child, &st, 0) != child)
        die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("the child failed (wait status %#x)", (unsigned)st);

    if (q->answered != child)
        fail("no answer from pid %d (answered: %d)", (int)child, q->answered);
    if (q->sum != want || strcmp(q->reversed, "rotpircsed") != 0)
        fail("wrong answer: sum %ld (want %ld), \"%s\"", q->sum, want, q->reversed);
    printf("parent: child %d answered in the mapping: sum %ld, min %d, max %d, \"%s\"\n",
           (int)child, q->sum, q->min, q->max, q->reversed);
    char line[64];
    snprintf(line, sizeof line, "pid %d read %d numbers", (int)child, NUMS);
    if (strncmp(p + PAGE, line, strlen(line)) != 0)
        fail("the second page holds \"%.60s\"", p + PAGE);
    printf("parent: and with pwrite: %s", p + PAGE);
    if (munmap(p, SIZE) == -1 || close(fd) == -1)
        die("munmap/close");
    return 0;
}

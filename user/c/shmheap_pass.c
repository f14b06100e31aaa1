/* shmheap_pass: allocate in one process, use and free by handle in another (shmheap_*).
 *
 *   shmheap_pass [COUNT]          pass COUNT objects (default 8, at most 32)
 *
 * The parent creates a 64 KiB heap "/shmheap_pass.PID" (shmheap_create), allocates a
 * mailbox and COUNT objects of different sizes, writes a text into each, and spawns itself
 * with the heap's name and the objects' handles (offsets from the heap's base, printed in
 * hex) as arguments. The child maps a few pages first and then connects (shmheap_connect),
 * so the heap lands at another address than in the parent; it turns each handle into a
 * pointer (shmheap_handle_to_ptr), checks the text and frees the object (shmheap_free);
 * then it allocates a reply, writes it, and leaves the reply's handle in the mailbox. The
 * parent reads the reply through the handle, frees it and the mailbox, shows that freeing
 * an object the child already freed is EINVAL, checks that the heap is whole again (the
 * largest allocation, size - 80, fits) and destroys it. Exit status 0 when everything
 * matched, 1 with a message otherwise. */
#include <errno.h>
#include <shmheap.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAP_SIZE (64 * 1024)
#define MAX_OBJS 32

struct mailbox {
    uint64_t reply;      /* the child's reply: a handle (0: none yet) */
    uint64_t child_base; /* where the child mapped the heap */
    int child_pid;       /* who wrote it */
    int freed;           /* how many objects the child freed */
};

static const char *me = "shmheap_pass";
static char heap_name[64];
static shmheap_memory_handle heap; /* the parent's, while the heap exists */

static void cleanup(void)
{
    if (heap_name[0] && heap.base) {
        shmheap_destroy(heap_name, heap);
        heap_name[0] = 0;
    }
}

static void die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", me, what, strerror(shmheap_errno()));
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

static size_t object_size(int i)
{
    return 40 + (size_t)i * 97 % 700;
}

static void object_text(char *buf, size_t n, int i, int pid)
{
    snprintf(buf, n, "object %d of pid %d, %zu bytes", i, pid, object_size(i));
}

/* shmheap_pass use NAME MAILBOX HANDLE...: check and free every object; reply. */
static int use(const char *name, int argc, char **argv)
{
    me = "shmheap_pass child";
    /* Map a few pages first, so that the heap lands at another address than in the parent:
     * the handles must not depend on where each process maps it. */
    void *pad = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pad == MAP_FAILED) {
        fprintf(stderr, "%s: mmap: %s\n", me, strerror(errno));
        return 1;
    }
    shmheap_memory_handle h = shmheap_connect(name);
    if (!h.base)
        die("shmheap_connect");
    shmheap_object_handle mh = {strtoull(argv[0], NULL, 16)};
    struct mailbox *mb = shmheap_handle_to_ptr(h, mh);
    if (!mb)
        die("mailbox handle");
    int parent = getppid();
    for (int i = 1; i < argc; i++) {
        shmheap_object_handle oh = {strtoull(argv[i], NULL, 16)};
        char *p = shmheap_handle_to_ptr(h, oh);
        if (!p)
            die("handle_to_ptr");
        char want[80];
        object_text(want, sizeof want, i - 1, parent);
        if (strcmp(p, want) != 0)
            fail("handle %#llx: \"%.60s\", want \"%s\"", (unsigned long long)oh.offset, p, want);
        shmheap_free(h, p);
        /* shmheap_free returns nothing: a freed object's handle no longer resolves. */
        if (shmheap_handle_to_ptr(h, oh) != NULL)
            fail("handle %#llx still live after shmheap_free", (unsigned long long)oh.offset);
        mb->freed++;
    }
    char *reply = shmheap_alloc(h, 100);
    if (!reply)
        die("shmheap_alloc");
    snprintf(reply, 100, "pid %d freed %d objects", (int)getpid(), mb->freed);
    shmheap_object_handle rh = shmheap_ptr_to_handle(h, reply);
    if (rh.offset == 0)
        die("ptr_to_handle");
    mb->child_pid = getpid();
    mb->child_base = (uintptr_t)h.base;
    mb->reply = rh.offset;
    printf("child (pid %d): heap mapped at %p; checked and freed %d objects, reply at %#llx\n",
           (int)getpid(), h.base, mb->freed, (unsigned long long)rh.offset);
    shmheap_disconnect(h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "use") == 0)
        return use(argv[2], argc - 3, argv + 3);
    long count = argc > 1 ? strtol(argv[1], NULL, 0) : 8;
    if (argc > 2 || count < 1 || count > MAX_OBJS) {
        fprintf(stderr, "usage: shmheap_pass [COUNT]   (1 <= COUNT <= %d)\n", MAX_OBJS);
        return 2;
    }

    atexit(cleanup);
    snprintf(heap_name, sizeof heap_name, "/shmheap_pass.%d", (int)getpid());
    heap = shmheap_create(heap_name, HEAP_SIZE);
    if (!heap.base)
        die("shmheap_create");
    struct mailbox *mb = shmheap_alloc(heap, sizeof *mb);
    if (!mb)
        die("shmheap_alloc");
    memset(mb, 0, sizeof *mb);

    /* argv for the child: "use", the name, the mailbox, then each object's handle. */
    static char handles[MAX_OBJS + 1][24];
    static char *args[MAX_OBJS + 5];
    char *objs[MAX_OBJS];
    int a = 0;
    args[a++] = argv[0];
    args[a++] = "use";
    args[a++] = heap_name;
    snprintf(handles[0], sizeof handles[0], "%#llx",
             (unsigned long long)shmheap_ptr_to_handle(heap, mb).offset);
    args[a++] = handles[0];
    for (int i = 0; i < count; i++) {
        objs[i] = shmheap_alloc(heap, object_size(i));
        if (!objs[i])
            die("shmheap_alloc");
        object_text(objs[i], object_size(i), i, (int)getpid());
        shmheap_object_handle oh = shmheap_ptr_to_handle(heap, objs[i]);
        if (oh.offset != (uint64_t)(objs[i] - (char *)heap.base))
            fail("handle %#llx is not the offset", (unsigned long long)oh.offset);
        snprintf(handles[i + 1], sizeof handles[i + 1], "%#llx", (unsigned long long)oh.offset);
        args[a++] = handles[i + 1];
    }
    args[a] = NULL;
    printf("parent (pid %d): heap %s mapped at %p; %ld objects, handles %s .. %s\n",
           (int)getpid(), heap_name, heap.base, count, handles[1], handles[count]);

    pid_t child;
    int e = posix_spawnp(&child, argv[0], NULL, NULL, args, NULL);
    if (e) {
        fprintf(stderr, "%s: posix_spawnp: %s\n", me, strerror(e));
        return 1;
    }
    int st;
    if (waitpid(child, &st, 0) != child) {
        fprintf(stderr, "%s: waitpid: %s\n", me, strerror(errno));
        return 1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("the child failed (wait status %#x)", (unsigned)st);
    if (mb->child_pid != child || mb->freed != count || mb->reply == 0)
        fail("mailbox: pid %d, freed %d, reply %#llx", mb->child_pid, mb->freed,
             (unsigned long long)mb->reply);

    if (mb->child_base == (uintptr_t)heap.base)
        fail("the child mapped the heap at the parent's address %p", heap.base);
    shmheap_object_handle rh = {mb->reply};
    char *reply = shmheap_handle_to_ptr(heap, rh);
    if (!reply)
        die("reply handle");
    printf("parent: reply through handle %#llx: \"%s\"\n", (unsigned long long)rh.offset, reply);
    shmheap_free(heap, reply);
    if (shmheap_handle_to_ptr(heap, rh) != NULL)
        fail("the reply is still live after shmheap_free");
    /* The child freed the objects: another free of one is refused (shmheap_errno, like
     * errno, keeps the last failure; nothing has failed before this). */
    shmheap_free(heap, objs[0]);
    if (shmheap_errno() != EINVAL)
        fail("freeing an object the child freed: error %d, want EINVAL", shmheap_errno());
    printf("parent: freeing object 0 again: %s\n", strerror(shmheap_errno()));
    shmheap_free(heap, mb);
    char *all = shmheap_alloc(heap, HEAP_SIZE - 80);
    if (!all)
        die("the heap is not whole again: alloc(size - 80)");
    shmheap_free(heap, all);
    printf("parent: heap whole again (alloc of %d bytes fits); destroyed %s\n", HEAP_SIZE - 80,
           heap_name);
    shmheap_destroy(heap_name, heap);
    heap_name[0] = 0;
    return 0;
}

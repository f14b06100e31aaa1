/* stdin, stdout and stderr for picolibc's tinystdio, as its buffered "bufio" streams over
 * read and write on descriptors 0, 1 and 2; and fdopen() (so fopen() too), replacing
 * picolibc's so that the runtime knows every open stream and exit() can flush them all.
 *
 * Buffering as C requires: stdout is line buffered when it is a terminal and fully
 * buffered otherwise; stderr is line buffered (never fully); stdin reads what is there.
 * Reading stdin flushes stdout first (picolibc's bufio does that). */
#include <fcntl.h>
#include <stdio-bufio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nx.h"

/* From picolibc's tinystdio (stdio_private.h): a mode string's stream flags, and its
 * open flags in *optr. */
int __posix_sflags(const char *mode, int *optr);

#define STD_BUF 1024

static char in_buf[STD_BUF], out_buf[STD_BUF], err_buf[STD_BUF];

/* fclose() on a standard stream flushes it and closes the descriptor, but the struct is
 * not the heap's (picolibc's bufio close would free it). */
static int std_close(FILE *f)
{
    struct __file_bufio *bf = (struct __file_bufio *)f;
    int r = fflush(f);
    if (close(bf->fd) < 0)
        r = EOF;
    return r;
}

#define STD_STREAM(fd_, buf_, rw_, bflags_)                                                   \
    {                                                                                         \
        .xfile = FDEV_SETUP_EXT(__bufio_put, __bufio_get, __bufio_flush, std_close,           \
                                __bufio_seek, __bufio_setvbuf, (rw_) | __SBUF),               \
        .fd = (fd_), .dir = 0, .bflags = (bflags_), .pos = 0, .buf = (buf_),                  \
        .size = STD_BUF, .len = 0, .off = 0, .read = read, .write = write, .lseek = lseek,    \
        .close = close,                                                                       \
    }

static struct __file_bufio std_in = STD_STREAM(0, in_buf, __SRD, 0);
static struct __file_bufio std_out = STD_STREAM(1, out_buf, __SWR, 0);
static struct __file_bufio std_err = STD_STREAM(2, err_buf, __SWR, __BLBF);

FILE *const stdin = &std_in.xfile.cfile.file;
FILE *const stdout = &std_out.xfile.cfile.file;
FILE *const stderr = &std_err.xfile.cfile.file;

void __nx_stdio_init(void)
{
    if (isatty(1))
        std_out.bflags |= __BLBF;
}

/* Streams fdopen made and fclose has not closed yet. */
#define MAX_STREAMS 64
static FILE *streams[MAX_STREAMS];

static void forget(FILE *f)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i] == f)
            streams[i] = NULL;
}

static int stream_close(FILE *f)
{
    forget(f);
    return __bufio_close(f); /* flushes, closes the descriptor, frees the struct */
}

struct stream {
    struct __file_bufio bf;
    char buf[BUFSIZ];
};

FILE *fdopen(int fd, const char *mode)
{
    int oflags;
    int rw = __posix_sflags(mode, &oflags);
    if (!rw)
        return NULL;
    int slot = 0;
    while (slot < MAX_STREAMS && streams[slot])
        slot++;
    if (slot == MAX_STREAMS) {
        errno = EMFILE;
        return NULL;
    }
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->bf = (struct __file_bufio)FDEV_SETUP_BUFIO(fd, s->buf, BUFSIZ, read, write, lseek, close,
                                                  rw, 0);
    s->bf.xfile.cfile.close = stream_close;
    FILE *f = &s->bf.xfile.cfile.file;
    __bufio_lock_init(f);
    streams[slot] = f;
    /* __posix_sflags gives "a" O_APPEND, which has the same value in newlib and Linux. */
    if (oflags & O_APPEND)
        fseeko(f, 0, SEEK_END);
    return f;
}

void __nx_stdio_flush_all(void)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (streams[i])
            fflush(streams[i]);
    fflush(stdout);
    fflush(stderr);
}

/* stdin, stdout and stderr for picolibc's tinystdio, as its buffered "bufio" streams over
 * read and write on descriptors 0, 1 and 2; and fdopen() (so fopen() too), replacing
 * picolibc's so that the runtime knows every open stream and exit() can flush them all.
 *
 * Buffering as C requires: stdout is line buffered when it is a terminal and fully
 * buffered otherwise; stderr is line buffered (never fully); stdin reads what is there.
 * Reading stdin flushes stdout first (picolibc's bufio does that).
 *
 * The console has no line discipline in the kernel (the shell edits its own lines), so
 * when stdin is the console, stdio reads it as a cooked terminal would deliver it: whole
 * lines, echoed as typed, with Backspace/Delete and Ctrl-U editing, Enter (CR or LF) ending
 * the line with '\n' and Ctrl-D ending the input (at the start of a line; elsewhere it hands
 * over what was typed). Escape sequences (arrow keys) and other control characters are
 * dropped. read(0, ...) itself stays raw. */
#include <fcntl.h>
#include <stdio-bufio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nx.h"

/* From picolibc's tinystdio (stdio_private.h): a mode string's stream flags, and its
 * open flags in *optr. */
int __posix_sflags(const char *mode, int *optr);

#define STD_BUF 1024

/* ---- stdin on the console: a line at a time, edited and echoed ---- */

#define LINE_MAX_ 256
static int cooked;
static char raw[64];
static size_t raw_len, raw_off;
static char line[LINE_MAX_];
static size_t line_len, line_off;
static int esc; /* 0, or inside an escape sequence: 1 after ESC, 2 after ESC [ or ESC O */

static void echo(const char *s, size_t n)
{
    if (write(0, s, n) < 0)
        (void)write(1, s, n);
}

/* The next raw byte, reading more when needed: 1, 0 at end of file, -1 on error. */
static int next_raw(char *c)
{
    if (raw_off == raw_len) {
        ssize_t n = read(0, raw, sizeof raw);
        if (n <= 0)
            return (int)n;
        raw_len = (size_t)n;
        raw_off = 0;
    }
    *c = raw[raw_off++];
    return 1;
}

/* Edit one line into `line`: its length (with its '\n'), 0 at end of input, -1 on error. */
static ssize_t read_line(void)
{
    line_len = line_off = 0;
    for (;;) {
        char c;
        int r = next_raw(&c);
        if (r <= 0)
            return r < 0 ? -1 : (ssize_t)line_len;
        if (esc) {
            if (esc == 1 && (c == '[' || c == 'O'))
                esc = 2;
            else if (esc == 1 || (c >= 0x40 && c <= 0x7e))
                esc = 0;
            continue;
        }
        switch (c) {
        case '\r':
        case '\n':
            line[line_len++] = '\n';
            echo("\n", 1);
            return (ssize_t)line_len;
        case 0x04: /* Ctrl-D */
            if (line_len)
                return (ssize_t)line_len;
            return 0;
        case 0x7f:
        case '\b':
            if (line_len) {
                line_len--;
                echo("\b \b", 3);
            }
            break;
        case 0x15: /* Ctrl-U */
            while (line_len) {
                line_len--;
                echo("\b \b", 3);
            }
            break;
        case 0x1b:
            esc = 1;
            break;
        default:
            if (((unsigned char)c >= 0x20 || c == '\t') && line_len < LINE_MAX_ - 1) {
                line[line_len++] = c;
                echo(&c, 1);
            }
            break;
        }
    }
}

static ssize_t stdin_read(int fd, void *buf, size_t n)
{
    if (!cooked)
        return read(fd, buf, n);
    if (line_off == line_len) {
        ssize_t r = read_line();
        if (r <= 0)
            return r;
    }
    size_t k = line_len - line_off;
    if (k > n)
        k = n;
    memcpy(buf, line + line_off, k);
    line_off += k;
    return (ssize_t)k;
}

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

#define STD_STREAM(fd_, buf_, rw_, bflags_, read_)                                            \
    {                                                                                         \
        .xfile = FDEV_SETUP_EXT(__bufio_put, __bufio_get, __bufio_flush, std_close,           \
                                __bufio_seek, __bufio_setvbuf, (rw_) | __SBUF),               \
        .fd = (fd_), .dir = 0, .bflags = (bflags_), .pos = 0, .buf = (buf_),                  \
        .size = STD_BUF, .len = 0, .off = 0, .read = (read_), .write = write, .lseek = lseek, \
        .close = close,                                                                       \
    }

static struct __file_bufio std_in = STD_STREAM(0, in_buf, __SRD, 0, stdin_read);
static struct __file_bufio std_out = STD_STREAM(1, out_buf, __SWR, 0, read);
static struct __file_bufio std_err = STD_STREAM(2, err_buf, __SWR, __BLBF, read);

FILE *const stdin = &std_in.xfile.cfile.file;
FILE *const stdout = &std_out.xfile.cfile.file;
FILE *const stderr = &std_err.xfile.cfile.file;

void __nx_stdio_init(void)
{
    cooked = isatty(0);
    if (isatty(1))
        std_out.bflags |= __BLBF;
    /* stderr is unbuffered (POSIX): what a program says just before it crashes is seen. */
    setvbuf(stderr, NULL, _IONBF, 0);
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

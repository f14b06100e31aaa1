/* sys/uio.h: readv and writev (up to IOV_MAX 1024 iovecs). */
#ifndef _NX_SYS_UIO_H
#define _NX_SYS_UIO_H

#include <sys/types.h>
#define __need_size_t
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOV_MAX 1024
#define UIO_MAXIOV IOV_MAX

struct iovec {
    void *iov_base;
    size_t iov_len;
};

ssize_t readv(int fd, const struct iovec *iov, int n);
ssize_t writev(int fd, const struct iovec *iov, int n);

#ifdef __cplusplus
}
#endif

#endif

/* shmheap.h: a heap inside a named POSIX shared-memory object (the shmheap_* API),
 * implemented by user/shmheap (its C surface, user/shmheap/src/c.rs, linked from the Rust
 * archive libclib.a). Handles are offsets from the heap's base, so they name the same
 * bytes in every process, wherever each maps the heap. A failure returns NULL (or a handle
 * with base NULL / offset 0) and the reason is shmheap_errno(), an errno value. */
#ifndef _NX_SHMHEAP_H
#define _NX_SHMHEAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    void *base;
    size_t len;
} shmheap_memory_handle;

typedef struct {
    uint64_t offset;
} shmheap_object_handle;

shmheap_memory_handle shmheap_create(const char *name, size_t len);
shmheap_memory_handle shmheap_connect(const char *name);
void shmheap_disconnect(shmheap_memory_handle mem);
void shmheap_destroy(const char *name, shmheap_memory_handle mem);
void *shmheap_underlying(shmheap_memory_handle mem);
void *shmheap_alloc(shmheap_memory_handle mem, size_t sz);
void shmheap_free(shmheap_memory_handle mem, void *ptr);
shmheap_object_handle shmheap_ptr_to_handle(shmheap_memory_handle mem, void *ptr);
void *shmheap_handle_to_ptr(shmheap_memory_handle mem, shmheap_object_handle hdl);
int shmheap_errno(void);

#ifdef __cplusplus
}
#endif

#endif

/* l4shmc.h: L4Re's chunk/signal channels (L4SHM) over a named POSIX shared-memory object,
 * implemented by user/shmchan (its C surface, user/shmchan/src/c.rs, linked from the Rust
 * archive libclib.a). Results are 0 or a negative errno (-EINVAL for a NULL pointer or a
 * handle never filled in; -ETIMEDOUT when a wait ends without an event). Timeouts are
 * milliseconds: 0 only looks, L4SHMC_TIMEOUT_NEVER waits for ever. Names are at most 15
 * bytes (-EINVAL beyond, never truncated); the area is the object "/NAME". The handle
 * structs are filled by the library: chunk and signal handles point at their area's
 * struct, which must outlive them. */
#ifndef _NX_L4SHMC_H
#define _NX_L4SHMC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long l4_umword_t;
typedef unsigned long l4_cap_idx_t;

#define L4SHMC_TIMEOUT_NEVER ((l4_umword_t)-1)
#define L4SHMC_NAME_SIZE 15

/* An attached area (this process's mapping and client number); all zero when detached. */
typedef struct {
    void *_base;
    l4_umword_t _size;
    l4_umword_t _client_nr;
    unsigned char _name[L4SHMC_NAME_SIZE + 2];
    /* The last name l4shmc_iterate_chunk returned (a copy, NUL-terminated). */
    char _iter_name[L4SHMC_NAME_SIZE + 1];
} l4shmc_area_t;

/* The Rust side's shmchan::area::AREA_SIZE. */
#ifndef __cplusplus
_Static_assert(sizeof(l4shmc_area_t) == 64, "l4shmc_area_t is 64 bytes");
#endif

typedef struct {
    const l4shmc_area_t *_shm;
    l4_umword_t _offset;
    unsigned int _seen;
    unsigned int _pad;
} l4shmc_signal_t;

typedef struct {
    l4_umword_t _chunk;
    const l4shmc_area_t *_shm;
    l4shmc_signal_t *_sig;
    l4_umword_t _capacity;
} l4shmc_chunk_t;

long l4shmc_create(const char *shmc_name, l4_umword_t shm_size);
long l4shmc_attach(const char *shmc_name, l4shmc_area_t *shmarea);
long l4shmc_attach_to(const char *shmc_name, l4_umword_t timeout_ms, l4shmc_area_t *shmarea);
long l4shmc_detach(l4shmc_area_t *shmarea);
long l4shmc_unlink(const char *shmc_name);
long l4shmc_get_client_nr(const l4shmc_area_t *shmarea);
long l4shmc_mark_client_initialized(l4shmc_area_t *shmarea);
long l4shmc_get_initialized_clients(l4shmc_area_t *shmarea, l4_umword_t *bitmask);

long l4shmc_add_chunk(l4shmc_area_t *shmarea, const char *chunk_name,
                      l4_umword_t chunk_capacity, l4shmc_chunk_t *chunk);
long l4shmc_get_chunk(l4shmc_area_t *shmarea, const char *chunk_name, l4shmc_chunk_t *chunk);
long l4shmc_get_chunk_to(l4shmc_area_t *shmarea, const char *chunk_name,
                         l4_umword_t timeout_ms, l4shmc_chunk_t *chunk);
/* The next chunk after offset `offs` (start with 0): its offset, 0 at the end. */
long l4shmc_iterate_chunk(const l4shmc_area_t *shmarea, const char **chunk_name, long offs);

long l4shmc_add_signal(l4shmc_area_t *shmarea, const char *signal_name,
                       l4shmc_signal_t *signal);
long l4shmc_get_signal(l4shmc_area_t *shmarea, const char *signal_name,
                       l4shmc_signal_t *signal);
long l4shmc_get_signal_to(l4shmc_area_t *shmarea, const char *signal_name,
                          l4_umword_t timeout_ms, l4shmc_signal_t *signal);
long l4shmc_attach_signal(l4shmc_area_t *shmarea, const char *signal_name,
                          l4_cap_idx_t thread, l4shmc_signal_t *signal);
long l4shmc_attach_signal_to(l4shmc_area_t *shmarea, const char *signal_name,
                             l4_cap_idx_t thread, l4_umword_t timeout_ms,
                             l4shmc_signal_t *signal);
long l4shmc_connect_chunk_signal(l4shmc_chunk_t *chunk, l4shmc_signal_t *signal);
l4shmc_signal_t *l4shmc_chunk_signal(l4shmc_chunk_t *chunk);

long l4shmc_trigger(l4shmc_signal_t *signal);
long l4shmc_chunk_try_to_take(l4shmc_chunk_t *chunk);
long l4shmc_chunk_ready(l4shmc_chunk_t *chunk, l4_umword_t size);
long l4shmc_chunk_ready_sig(l4shmc_chunk_t *chunk, l4_umword_t size);
long l4shmc_chunk_consumed(l4shmc_chunk_t *chunk);
long l4shmc_is_chunk_ready(l4shmc_chunk_t *chunk);
long l4shmc_is_chunk_clear(l4shmc_chunk_t *chunk);
long l4shmc_check_magic(l4shmc_chunk_t *chunk);
void *l4shmc_chunk_ptr(l4shmc_chunk_t *chunk);
long l4shmc_chunk_size(l4shmc_chunk_t *chunk);
long l4shmc_chunk_capacity(l4shmc_chunk_t *chunk);

long l4shmc_wait_signal(l4shmc_signal_t *signal);
long l4shmc_wait_signal_to(l4shmc_signal_t *signal, l4_umword_t timeout_ms);
long l4shmc_wait_signal_try(l4shmc_signal_t *signal);
long l4shmc_wait_chunk(l4shmc_chunk_t *chunk);
long l4shmc_wait_chunk_to(l4shmc_chunk_t *chunk, l4_umword_t timeout_ms);
long l4shmc_wait_chunk_try(l4shmc_chunk_t *chunk);

/* l4shmc_wait_any waits on the signals this process enabled (at most 32). */
long l4shmc_enable_signal(l4shmc_signal_t *signal);
long l4shmc_enable_chunk(l4shmc_chunk_t *chunk);
long l4shmc_disable_signal(l4shmc_signal_t *signal);
long l4shmc_wait_any(l4shmc_signal_t **retsignal);
long l4shmc_wait_any_to(l4_umword_t timeout_ms, l4shmc_signal_t **retsignal);
long l4shmc_wait_any_try(l4shmc_signal_t **retsignal);

long l4shmc_area_size(const l4shmc_area_t *shmarea);
long l4shmc_area_size_free(const l4shmc_area_t *shmarea);
long l4shmc_area_overhead(void);
long l4shmc_chunk_overhead(void);

#ifdef __cplusplus
}
#endif

#endif

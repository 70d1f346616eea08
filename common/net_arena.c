// SPDX-License-Identifier: MIT
/*
 * net_arena.c - a bump allocator for protobuf-c, for a message that is decoded, used and
 * freed within one callback (a client's request in the coordinator, an answer in the load
 * generator): its parts are carved out of one buffer instead of a malloc each.
 *
 * Invariant: 0 <= used <= NSIM_ARENA_SIZE; a pointer inside buf[] was carved, any other
 * came from malloc (the buffer ran out) and is freed by free(). nsim_arena_reset() makes the
 * whole buffer available again; the caller resets only once nothing decoded is in use.
 */
#include <stdalign.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* AddressSanitizer sees the buffer as freed between resets: a pointer kept past one traps. */
#define arena_poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define arena_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define arena_poison(p, n) ((void)(p), (void)(n))
#define arena_unpoison(p, n) ((void)(p), (void)(n))
#endif

#include "net.h"
#include "nsim.h"

static void *arena_alloc(void *data, size_t size)
{
	struct nsim_arena *ar = data;
	size_t at = (ar->used + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

	if (size <= NSIM_ARENA_SIZE && at <= NSIM_ARENA_SIZE - size) {
		ar->used = at + size;
		arena_unpoison(ar->buf + at, size);
		return ar->buf + at;
	}
	ar->spilled++;
	ar->spills_live++;
	return xmalloc(size);
}

static void arena_free(void *data, void *p)
{
	struct nsim_arena *ar = data;
	uint8_t *b = p;

	if (b < ar->buf || b >= ar->buf + NSIM_ARENA_SIZE)
		free(p);
}

void nsim_arena_init(struct nsim_arena *ar)
{
	ar->allocator.alloc = arena_alloc;
	ar->allocator.free = arena_free;
	ar->allocator.allocator_data = ar;
	ar->used = 0;
	ar->spilled = 0;
	ar->spills_live = 0;
	arena_poison(ar->buf, NSIM_ARENA_SIZE);
}

void nsim_arena_reset(struct nsim_arena *ar)
{
	ar->used = 0;
	ar->spills_live = 0;
	arena_poison(ar->buf, NSIM_ARENA_SIZE);
}

void nsim_arena_release(struct nsim_arena *ar)
{
	arena_unpoison(ar->buf, NSIM_ARENA_SIZE);
	ar->used = NSIM_ARENA_SIZE; /* nothing more is carved */
}

void nsim_arena_free(struct nsim_arena *ar, ProtobufCMessage *msg)
{
	if (ar->spills_live)
		nsim_wire_free(msg, &ar->allocator);
	nsim_arena_reset(ar);
}

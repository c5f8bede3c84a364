/*
 * memcap.h: a byte budget shared by everything one worker allocates per flow
 * (flow records, out-of-order segments). Checked *before* allocating, so the
 * cap holds; who hits it decides what to give up (see flow_table.c, tcp_stream.c).
 */
#ifndef TLSOBS_MEMCAP_H
#define TLSOBS_MEMCAP_H

#include <stdbool.h>
#include <stdint.h>

struct memcap {
	uint64_t cap;     /* bytes allowed */
	uint64_t used;    /* bytes currently held */
	uint64_t peak;    /* highest `used` seen */
	uint64_t refused; /* reservations refused because of the cap */
};

static inline bool memcap_reserve(struct memcap *m, uint64_t n)
{
	if (n > m->cap || m->used > m->cap - n) {
		m->refused++;
		return false;
	}
	m->used += n;
	if (m->used > m->peak)
		m->peak = m->used;
	return true;
}

static inline void memcap_release(struct memcap *m, uint64_t n)
{
	m->used = n > m->used ? 0 : m->used - n;
}

#endif

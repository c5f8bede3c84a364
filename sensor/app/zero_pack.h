/*
 * zero_pack.h: a fixed-size struct kept in the bytes it really uses.
 *
 * The parsers' observations are plain structs of fixed-size arrays (a banner,
 * capability lines, recipient domains, cipher lists), mostly zeros once a
 * session is decided. A session that is decided and closed keeps its
 * observations packed (zero runs left out) until its event is written, then
 * unpacks them byte for byte: the event reads exactly what it would have read
 * from the parser.
 */
#ifndef TLSOBS_ZERO_PACK_H
#define TLSOBS_ZERO_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A packed copy of size bytes at src (heap, *len bytes), or NULL when out of memory. */
uint8_t *zero_pack(const void *src, size_t size, size_t *len);
/* Restores size bytes into dst from a zero_pack of the same size. false: the packed bytes do not fit size. */
bool zero_unpack(const uint8_t *packed, size_t len, void *dst, size_t size);
/* The size a zero_pack restores to (for bytes of a length not kept beside them); 0 when damaged. */
size_t zero_packed_size(const uint8_t *packed, size_t len);

#endif

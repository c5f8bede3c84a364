/*
 * siphash.h: SipHash-2-4 (Aumasson & Bernstein, 2012), a keyed hash for the flow
 * table. Attackers choose the addresses and ports we hash, so an unkeyed hash
 * would let them pile every flow into one bucket.
 */
#ifndef TLSOBS_SIPHASH_H
#define TLSOBS_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif

/*
 * flow_hash.h: which worker a packet belongs to, decided before any flow
 * state exists (the file reader's dispatch; live capture's forwarding of
 * tunnelled packets).
 *
 * The hash covers the innermost IP address pair only, ordered, so that both
 * directions of a connection and every IP fragment of a datagram (which carry
 * no ports after the first) reach the same worker without defragmenting in
 * the dispatcher. The trade-off: all sessions between one pair of hosts share
 * a worker, so one very busy host pair (two MTAs relaying to each other over
 * many connections) is bound by one worker.
 *
 * Each address is folded to 32 bits (the XOR of its big-endian words, as the
 * contract hash of issue 17 that live capture's fanout program computes in
 * the kernel, sensor/capture/fanout_bpf.h), mixed (flow_hash_mix: MurmurHash3's
 * finaliser), and the two are XORed: symmetric. The contract XORs the two folds first and mixes
 * nothing; that cancels whatever the two addresses share: the bench capture's
 * copies (10.a.b.0/24 talking to 172.16+a.b.0/24, a < 16) all have the same
 * XOR, so every copy of a session went to one worker, 90% of the packets on
 * one of two, and modulo 2 it reads four bits in all. Mixing each address
 * first costs the fanout program two multiplies and three shifts per
 * address, and keeps the spread even (tests/sensor/test_flow_hash.c). Not keyed: chosen
 * addresses can load one worker, never grow anything (each worker has its
 * own memcap).
 */
#ifndef TLSOBS_FLOW_HASH_H
#define TLSOBS_FLOW_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

/* MurmurHash3's fmix32: every bit of x counts, modulo any N. */
uint32_t flow_hash_mix(uint32_t x);
/* mix(fold(a)) ^ mix(fold(b)): what the worker is chosen by; the same for (a, b) and (b, a). */
uint32_t flow_hash_pair(const struct ip_addr *a, const struct ip_addr *b);
/* A packet packet_decode found to be TCP (DECODE_OK) or a fragment: its innermost addresses' hash. */
uint32_t flow_hash_packet(const struct decoded_packet *p);
/* The worker (0 .. nworkers - 1) of a hash: hash % nworkers, as the kernel's fanout takes it. */
/*
 * The reader's shortcut for the commonest frame, Ethernet + IPv4 + TCP, whose innermost pair is its only one:
 * the same hash as flow_hash_packet after packet_decode, from the two addresses alone (the full decode was a
 * sixth of the reader's time on bulk traffic). False for anything else: decode it.
 */
bool flow_hash_plain_frame(int linktype, const uint8_t *data, size_t caplen, uint32_t *hash);
unsigned flow_hash_worker(uint32_t hash, unsigned nworkers);

#endif

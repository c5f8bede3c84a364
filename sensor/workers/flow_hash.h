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
 * It is the contract hash of issue 17, the one live capture's fanout program
 * computes in the kernel (sensor/capture/fanout_bpf.h): x = XOR of the 32-bit
 * big-endian words of both addresses (one each for IPv4, four each for IPv6),
 * x ^= x >> 16, x ^= x >> 8; the worker is x % N. So a capture read from a
 * file spreads over the workers as it did live (tests/support/
 * flow_hash_vectors.h holds worked examples). Not keyed: chosen addresses can
 * load one worker, never grow anything (each worker has its own memcap).
 */
#ifndef TLSOBS_FLOW_HASH_H
#define TLSOBS_FLOW_HASH_H

#include <stdint.h>

#include "parsers/packet_decode.h"

/* x before the modulo; the same for (a, b) and (b, a). */
uint32_t flow_hash_pair(const struct ip_addr *a, const struct ip_addr *b);
/* A packet packet_decode found to be TCP (DECODE_OK) or a fragment: its innermost addresses' hash. */
uint32_t flow_hash_packet(const struct decoded_packet *p);
/* The worker (0 .. nworkers - 1) of a hash: x % nworkers, as the kernel's fanout takes it. */
unsigned flow_hash_worker(uint32_t hash, unsigned nworkers);

#endif

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
 * many connections) is bound by one worker. The key is fixed: the spread is
 * the same on every run, so a run is reproducible; a hash flood can only load
 * one worker, never grow anything (each worker has its own memcap).
 */
#ifndef TLSOBS_FLOW_HASH_H
#define TLSOBS_FLOW_HASH_H

#include <stdint.h>

#include "parsers/packet_decode.h"

/* The same for (a, b) and (b, a). */
uint64_t flow_hash_pair(const struct ip_addr *a, const struct ip_addr *b);
/* A packet packet_decode found to be TCP (DECODE_OK) or a fragment: its innermost addresses' hash. */
uint64_t flow_hash_packet(const struct decoded_packet *p);
/* The worker (0 .. nworkers - 1) of a hash: the high bits, spread evenly (Lemire's multiply-shift). */
unsigned flow_hash_worker(uint64_t hash, unsigned nworkers);

#endif

/*
 * community_id.h: the Community ID v1 of a flow (network.community_id), so a
 * SIEM can join our events with Zeek's and Suricata's records of the same flow.
 *
 * Spec: https://github.com/corelight/community-id-spec (v1, ports-carrying
 * protocols: TCP, UDP, SCTP). Direction does not matter: both orders of the
 * endpoints give the same id.
 */
#ifndef TLSOBS_COMMUNITY_ID_H
#define TLSOBS_COMMUNITY_ID_H

#include <stdint.h>

#include "parsers/packet_decode.h"

enum {
	COMMUNITY_ID_LEN = 31, /* "1:" + 28 base64 characters + NUL */
	COMMUNITY_ID_PROTO_TCP = 6,
};

/*
 * Writes "1:<base64 of SHA-1>" into out. 0, or -1 (out is "") when the two
 * addresses are not of the same family or SHA-1 is unavailable. `seed` is the
 * spec's seed (0 unless the operator partitions id domains).
 */
int community_id_v1(const struct ip_addr *a, uint16_t a_port, const struct ip_addr *b, uint16_t b_port,
                    uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif

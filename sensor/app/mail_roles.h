/*
 * mail_roles.h: which side of a mail flow picked up midstream is the server,
 * from what it says first.
 *
 * The flow table guesses roles from ports when neither a SYN nor a SYN-ACK
 * was seen; in SMTP the server speaks first (RFC 5321 3.1, 4.2: a reply line),
 * so a reply from the guessed client means the guess was wrong. The TCP
 * tracker only offers the swap; the protocol knowledge lives here. Owns
 * nothing: a decision over the packet and the flow.
 */
#ifndef TLSOBS_MAIL_ROLES_H
#define TLSOBS_MAIL_ROLES_H

#include "parsers/packet_decode.h"
#include "sensor/flow/flow.h"

/* Before the packet reaches the tracker: swaps guessed roles when the guessed client opens with an SMTP
 * reply; *dir follows. */
void mail_roles_settle(struct flow *f, enum flow_dir *dir, const struct decoded_packet *p);

#endif

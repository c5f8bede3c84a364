/*
 * mail_roles.c: the server of a mail flow picked up midstream is the side that
 * sends the SMTP banner (see mail_roles.h). Owns nothing.
 */
#include "sensor/app/mail_roles.h"

#include <ctype.h>

#include "sensor/flow/tcp_tracker.h"

/* An SMTP reply ("220 ", "220-"): only a server starts its talk like this. */
static bool looks_like_reply(const struct decoded_packet *p)
{
	const uint8_t *b = p->payload;
	return p->payload_len >= 4 && isdigit(b[0]) && isdigit(b[1]) && isdigit(b[2]) &&
	       (b[3] == ' ' || b[3] == '-');
}

void mail_roles_settle(struct flow *f, enum flow_dir *dir, const struct decoded_packet *p)
{
	if (*dir == FLOW_TO_SERVER && tcp_tracker_roles_open(f) && looks_like_reply(p))
		tcp_tracker_swap_roles(f, dir);
}

/*
 * fuzz_history_update.c: libFuzzer harness for the shared history's documents, as read from the topic
 * <prefix>history (sensor/state/history_share.h): bytes any sensor of the fleet, or anyone who can write to
 * the topic, may have put there. Each input is decoded; a document that decodes must encode again into one
 * that decodes to the same update (the wire format loses nothing it accepted), and is then merged into a
 * rules engine, which must never raise an alert from it. A broken promise aborts.
 *
 * Seeds: a server (with its TLS facts) and a pair document as a sensor writes them (IPv4 and IPv6), unknown
 * and nested members, JA3 answer arrays of unequal lengths,
 * escapes, repeated and mistyped members, numbers past 64 bits, cut documents.
 */
#include <stdlib.h>
#include <string.h>

#include "sensor/state/history_share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int publish_nothing(void *ctx, const char *key, size_t key_len, const char *doc, size_t len)
{
	(void)ctx, (void)key, (void)key_len, (void)doc, (void)len;
	return 0;
}

static bool same(const struct history_share_update *a, const struct history_share_update *b)
{
	const struct starttls_pair_share *p = &a->pair_facts, *q = &b->pair_facts;
	bool pair =
	    a->kind != HISTORY_SHARE_PAIR ||
	    (ip_addr_compare(&a->client, &b->client) == 0 && p->ehlo_used == q->ehlo_used &&
	     p->ehlo_us == q->ehlo_us && strcmp(p->ehlo_session_id, q->ehlo_session_id) == 0 &&
	     p->failed == q->failed && p->failed_end_us == q->failed_end_us &&
	     strcmp(p->failed_session_id, q->failed_session_id) == 0 && p->failed_rule == q->failed_rule);
	bool server = a->kind != HISTORY_SHARE_SERVER ||
	              (a->server_facts.starttls == b->server_facts.starttls &&
	               a->server_facts.starttls_us == b->server_facts.starttls_us &&
	               strcmp(a->server_facts.starttls_session_id, b->server_facts.starttls_session_id) == 0);
	return a->kind == b->kind && strcmp(a->observer, b->observer) == 0 && a->time_us == b->time_us &&
	       ip_addr_compare(&a->server, &b->server) == 0 && a->port == b->port && pair && server &&
	       memcmp(&a->tls_facts, &b->tls_facts, sizeof a->tls_facts) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rules_engine *engine;
	static struct history_share *share;
	if (!engine) {
		struct rules_settings set = {0};
		engine = rules_engine_new(&set);
		share = history_share_new(engine, "fuzz", 300000000u, publish_nothing, NULL);
		if (!engine || !share)
			abort();
	}
	uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: a read past them is caught */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct history_share_update u, again;
	const char *why = NULL;
	if (history_share_decode(copy, size, &u, &why) == 0) {
		struct json_writer w;
		json_writer_init(&w, X509_NAME_MAX);
		char key[HISTORY_SHARE_KEY_MAX];
		history_share_encode(&w, &u, key);
		if (json_writer_failed(&w) ||
		    history_share_decode((const uint8_t *)w.buf, w.len, &again, &why) != 0 ||
		    !same(&u, &again))
			abort();
		json_writer_release(&w);
	} else if (!why) {
		abort(); /* an error always names its reason */
	}
	history_share_receive(share, copy, size, UINT64_MAX / 2);
	for (int r = 0; r < RULE_COUNT; r++)
		if (rules_engine_stats(engine)->alerts[r])
			abort();
	free(copy);
	return 0;
}

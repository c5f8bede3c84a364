/* test_stream_hold.c: bytes held for the classifier come back whole, in arrival order, within the cap. */
#include "sensor/flow/stream_hold.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

struct replayed {
	char text[64];
	int calls;
};

static void collect(void *ctx, enum flow_dir dir, const uint8_t *p, size_t n)
{
	struct replayed *r = ctx;
	size_t used = strlen(r->text);
	snprintf(r->text + used, sizeof r->text - used, "%c:%.*s|", dir == FLOW_TO_SERVER ? 'C' : 'S', (int)n,
	         p);
	r->calls++;
}

Test(stream_hold, replays_both_directions_in_arrival_order)
{
	struct stream_hold h = {0};
	cr_assert(stream_hold_add(&h, FLOW_TO_CLIENT, (const uint8_t *)"220 mx", 6));
	cr_assert(stream_hold_add(&h, FLOW_TO_SERVER, (const uint8_t *)"EHLO a", 6));
	cr_assert(stream_hold_add(&h, FLOW_TO_CLIENT, (const uint8_t *)"250 ok", 6));
	cr_assert_eq(stream_hold_memory(&h), STREAM_HOLD_STEP,
	             "a few bytes cost the first step, not the cap");
	struct replayed r = {0};
	stream_hold_replay(&h, collect, &r);
	cr_assert_str_eq(r.text, "S:220 mx|C:EHLO a|S:250 ok|");
	stream_hold_replay(&h, collect, &r);
	cr_assert_eq(r.calls, 3, "a replay empties the hold");
	stream_hold_release(&h);
	cr_assert_eq(stream_hold_memory(&h), 0);
}

Test(stream_hold, refuses_what_would_pass_the_cap_and_keeps_what_it_had)
{
	static uint8_t big[STREAM_HOLD_CAP];
	struct stream_hold h = {0};
	cr_assert(stream_hold_add(&h, FLOW_TO_CLIENT, (const uint8_t *)"220", 3));
	cr_assert_not(stream_hold_add(&h, FLOW_TO_SERVER, big, sizeof big - 5));
	cr_assert(h.overflow);
	cr_assert_not(stream_hold_add(&h, FLOW_TO_SERVER, (const uint8_t *)"x", 1),
	              "nothing after an overflow");
	struct replayed r = {0};
	stream_hold_replay(&h, collect, &r);
	cr_assert_str_eq(r.text, "S:220|");
	stream_hold_release(&h);
}

Test(stream_hold, fills_exactly_to_the_cap)
{
	static uint8_t big[STREAM_HOLD_CAP];
	struct stream_hold h = {0};
	cr_assert(stream_hold_add(&h, FLOW_TO_SERVER, big, STREAM_HOLD_CAP - 3));
	cr_assert_eq(stream_hold_memory(&h), STREAM_HOLD_CAP);
	cr_assert_not(stream_hold_add(&h, FLOW_TO_SERVER, big, 1));
	stream_hold_release(&h);
	stream_hold_release(&h); /* twice is harmless */
}

/* Chunk i holds 100 bytes of value i, sent by direction i % 2. */
static void check_chunk(void *ctx, enum flow_dir dir, const uint8_t *p, size_t n)
{
	int *i = ctx;
	cr_assert_eq(n, 100);
	cr_assert_eq((int)dir, *i % 2);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(p[k], (uint8_t)*i, "chunk %d byte %zu", *i, k);
	(*i)++;
}

Test(stream_hold, grows_in_doubling_steps_and_keeps_every_byte)
{
	struct stream_hold h = {0};
	cr_assert_eq(stream_hold_memory(&h), 0, "nothing held costs nothing");
	uint8_t chunk[100];
	size_t added = 0, last = 0;
	int n = 0;
	for (;; n++) {
		memset(chunk, n, sizeof chunk);
		if (!stream_hold_add(&h, (enum flow_dir)(n % 2), chunk, sizeof chunk))
			break;
		added += 3 + sizeof chunk;
		size_t mem = stream_hold_memory(&h);
		cr_assert_geq(mem, added, "room for what is held");
		cr_assert(mem == last || (last == 0 && mem == STREAM_HOLD_STEP) || mem == 2 * last,
		          "%zu after %zu: the first step or a doubling", mem, last);
		last = mem;
	}
	cr_assert_eq(last, STREAM_HOLD_CAP);
	cr_assert_eq(n, STREAM_HOLD_CAP / 103, "as many chunks as the cap holds");
	cr_assert(h.overflow);
	int seen = 0;
	stream_hold_replay(&h, check_chunk, &seen);
	cr_assert_eq(seen, n);
	stream_hold_release(&h);
}

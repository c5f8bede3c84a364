/*
 * test_history_memcap.c: history tables sharing one byte budget (issue 16).
 *
 * The cap is derived from what one table reports it holds, never hard-coded,
 * so the tests do not depend on the record layout.
 */
#include "rules/history.h"

#include <criterion/criterion.h>

#include "rules/rules_engine.h"

struct record {
	int value;
};

static struct history_key key_n(int n)
{
	struct ip_addr ip = {.family = 4, .bytes = {198, 51, (uint8_t)(n >> 8), (uint8_t)n}};
	return history_key_ip(&ip);
}

static void put(struct history *h, int n, uint64_t now)
{
	struct history_key k = key_n(n);
	struct record *r = history_touch(h, &k, now);
	cr_assert_not_null(r, "entry %d found room", n);
	r->value = n;
}

static bool has(struct history *h, int n, uint64_t now)
{
	struct history_key k = key_n(n);
	return history_find(h, &k, now) != NULL;
}

/* One entry's charge, measured on a table of the same shape. */
static uint64_t entry_bytes(void)
{
	struct history *h = history_new(1000, 0, sizeof(struct record));
	uint64_t empty = history_stats(h)->bytes;
	put(h, 1, 1);
	uint64_t one = history_stats(h)->bytes - empty;
	history_free(h);
	return one;
}

Test(history_memcap, charges_the_bucket_arrays_and_each_entry)
{
	struct history_memcap *m = history_memcap_new(1 << 20);
	struct history *a = history_new(1000, 0, sizeof(struct record));
	struct history *b = history_new(1000, 0, sizeof(struct record));
	uint64_t a_buckets = history_stats(a)->bytes;
	uint64_t buckets = a_buckets + history_stats(b)->bytes;
	cr_assert_gt(a_buckets, 0);
	cr_assert(history_memcap_attach(m, a));
	cr_assert(history_memcap_attach(m, b));
	cr_assert_not(history_memcap_attach(m, a), "a table is attached once");
	cr_assert_eq(history_memcap_stats(m)->used, buckets);
	for (int i = 0; i < 10; i++)
		put(a, i, 100 + (uint64_t)i);
	put(b, 1, 200);
	uint64_t e = entry_bytes();
	cr_assert_gt(e, sizeof(struct record));
	cr_assert_eq(history_stats(a)->bytes, a_buckets + 10 * e);
	cr_assert_eq(history_memcap_stats(m)->used, buckets + 11 * e);
	cr_assert_eq(history_memcap_stats(m)->peak, buckets + 11 * e);
	history_free(a);
	cr_assert_eq(history_memcap_stats(m)->used, history_stats(b)->bytes,
	             "a freed table gives all its bytes back");
	history_free(b);
	cr_assert_eq(history_memcap_stats(m)->used, 0);
	history_memcap_free(m);
}

Test(history_memcap, bytes_return_to_the_buckets_when_every_entry_expired)
{
	struct history_memcap *m = history_memcap_new(1 << 20);
	struct history *h = history_new(100, 1000, sizeof(struct record));
	uint64_t empty = history_stats(h)->bytes;
	history_memcap_attach(m, h);
	for (int i = 0; i < 50; i++)
		put(h, i, 10);
	cr_assert_gt(history_memcap_stats(m)->used, empty);
	cr_assert_not(has(h, 99, 5000), "the lookup sweeps every expired entry");
	cr_assert_eq(history_stats(h)->entries, 0);
	cr_assert_eq(history_stats(h)->expired, 50);
	cr_assert_eq(history_stats(h)->bytes, empty);
	cr_assert_eq(history_memcap_stats(m)->used, empty);
	history_free(h);
	history_memcap_free(m);
}

Test(history_memcap, evicts_the_least_recently_seen_entry_of_any_table)
{
	uint64_t e = entry_bytes();
	struct history *a = history_new(1000, 0, sizeof(struct record));
	struct history *b = history_new(1000, 0, sizeof(struct record));
	uint64_t buckets = history_stats(a)->bytes + history_stats(b)->bytes;
	struct history_memcap *m = history_memcap_new(buckets + 4 * e); /* room for four entries */
	history_memcap_attach(m, a);
	history_memcap_attach(m, b);
	put(a, 1, 100);
	put(b, 2, 200);
	put(a, 3, 300);
	put(b, 4, 400);
	cr_assert_eq(history_memcap_stats(m)->evicted, 0);
	put(b, 5, 500); /* full: a's entry 1 was seen longest ago */
	cr_assert_not(has(a, 1, 500));
	cr_assert(has(b, 2, 500) && has(a, 3, 500) && has(b, 4, 500) && has(b, 5, 500));
	cr_assert_eq(history_stats(a)->memcap_evicted, 1);
	cr_assert_eq(history_stats(b)->memcap_evicted, 0);
	struct history_key k2 = key_n(2);
	history_touch(b, &k2, 600); /* b: 4, 5, 2 from the oldest; a: 3 alone */
	put(b, 6, 700);             /* a's 3 is older, but a's last touch is spared: b's 4 goes */
	cr_assert(has(a, 3, 700));
	cr_assert_not(has(b, 4, 700));
	put(a, 7, 800); /* a's 3 (seen at 300) is now the oldest of all */
	cr_assert_not(has(a, 3, 800));
	cr_assert(has(b, 5, 800) && has(b, 2, 800) && has(b, 6, 800) && has(a, 7, 800));
	cr_assert_eq(history_memcap_stats(m)->evicted, 3);
	cr_assert_eq(history_stats(a)->evicted, 0, "the count cap did not act");
	cr_assert_leq(history_memcap_stats(m)->used, history_memcap_stats(m)->cap);
	cr_assert_eq(history_memcap_stats(m)->used, buckets + 4 * e);
	history_free(a);
	history_free(b);
	history_memcap_free(m);
}

Test(history_memcap, spares_the_entry_each_table_touched_last)
{
	uint64_t e = entry_bytes();
	struct history *a = history_new(1000, 0, sizeof(struct record));
	struct history *b = history_new(1000, 0, sizeof(struct record));
	uint64_t buckets = history_stats(a)->bytes + history_stats(b)->bytes;
	struct history_memcap *m = history_memcap_new(buckets + 2 * e);
	history_memcap_attach(m, a);
	history_memcap_attach(m, b);
	put(a, 1, 100); /* the oldest, but a's last touch: a caller may still hold it */
	put(b, 2, 200);
	put(b, 3, 300); /* full: b's own older entry goes, though a's was seen earlier */
	cr_assert(has(a, 1, 300));
	cr_assert_not(has(b, 2, 300));
	cr_assert(has(b, 3, 300));
	history_free(a);
	history_free(b);
	history_memcap_free(m);
}

Test(history_memcap, refuses_a_new_entry_when_nothing_can_go)
{
	struct history *h = history_new(1000, 0, sizeof(struct record));
	struct history_memcap *m = history_memcap_new(history_stats(h)->bytes); /* the buckets fill it */
	history_memcap_attach(m, h);
	struct history_key k = key_n(1);
	cr_assert_null(history_touch(h, &k, 1));
	cr_assert_eq(history_stats(h)->no_memory, 1);
	cr_assert_eq(history_memcap_stats(m)->refused, 1);
	cr_assert_eq(history_stats(h)->entries, 0);
	history_free(h);
	history_memcap_free(m);
}

Test(history_memcap, the_engine_reports_bytes_per_table_and_in_all)
{
	struct rules_settings set = {
	    .history_max_servers = 1000, .history_max_pairs = 1000, .history_memcap = 8 << 20};
	struct rules_engine *e = rules_engine_new(&set);
	cr_assert_not_null(e);
	const struct rules_stats *st = rules_engine_stats(e);
	cr_assert_eq(st->history_memcap, 8 << 20);
	cr_assert_gt(st->history_servers_bytes, 0, "the bucket array is charged from the start");
	cr_assert_eq(st->history_bytes, st->history_servers_bytes + st->history_pairs_bytes +
	                                    st->history_tls_servers_bytes + st->certificates_bytes);
	cr_assert_eq(st->history_memcap_evicted, 0);
	rules_engine_free(e);

	struct rules_engine *d = rules_engine_new(NULL);
	cr_assert_eq(rules_engine_stats(d)->history_memcap, RULES_DEFAULT_HISTORY_MEMCAP);
	cr_assert_leq(rules_engine_stats(d)->history_bytes, RULES_DEFAULT_HISTORY_MEMCAP);
	rules_engine_free(d);
}

/*
 * test_history.c: the bounded cross-session memory.
 *
 * Records are a small struct of the test's own; time is packet time in
 * microseconds, chosen by each test.
 */
#include "rules/history.h"

#include <criterion/criterion.h>
#include <string.h>

struct record {
	int value;
};

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr ip = {.family = 4, .bytes = {a, b, c, d}};
	return ip;
}

static struct history_key key_n(int n)
{
	struct ip_addr ip = v4(198, 51, (uint8_t)(n >> 8), (uint8_t)n);
	return history_key_ip(&ip);
}

static void put(struct history *h, int n, uint64_t now)
{
	struct history_key k = key_n(n);
	struct record *r = history_touch(h, &k, now);
	cr_assert_not_null(r);
	r->value = n;
}

static struct record *get(struct history *h, int n, uint64_t now)
{
	struct history_key k = key_n(n);
	return history_find(h, &k, now);
}

Test(history, finds_what_was_touched_and_nothing_else)
{
	struct history *h = history_new(8, 0, sizeof(struct record));
	put(h, 1, 10);
	struct record *r = get(h, 1, 20);
	cr_assert_not_null(r);
	cr_assert_eq(r->value, 1);
	cr_assert_null(get(h, 2, 20));
	history_free(h);
}

Test(history, creates_records_zeroed)
{
	struct history *h = history_new(1, 0, sizeof(struct record));
	put(h, 1, 10);
	struct history_key k = key_n(2);
	struct record *r = history_touch(h, &k, 20); /* reuses the evicted entry */
	cr_assert_eq(r->value, 0);
	history_free(h);
}

Test(history, forgets_an_entry_not_touched_within_the_ttl)
{
	struct history *h = history_new(8, 100, sizeof(struct record));
	put(h, 1, 1000);
	cr_assert_not_null(get(h, 1, 1100), "exactly ttl old is still remembered");
	cr_assert_null(get(h, 1, 1101));
	cr_assert_eq(history_stats(h)->expired, 1);
	cr_assert_eq(history_stats(h)->entries, 0);
	history_free(h);
}

Test(history, a_touch_restarts_the_ttl_but_a_find_does_not)
{
	struct history *h = history_new(8, 100, sizeof(struct record));
	put(h, 1, 1000);
	put(h, 2, 1000);
	put(h, 1, 1080);       /* refreshed */
	(void)get(h, 2, 1090); /* looked at only */
	cr_assert_not_null(get(h, 1, 1150));
	cr_assert_null(get(h, 2, 1150));
	history_free(h);
}

Test(history, expires_old_entries_while_serving_other_keys)
{
	struct history *h = history_new(8, 100, sizeof(struct record));
	for (int i = 0; i < 5; i++)
		put(h, i, 1000);
	put(h, 99, 5000);
	cr_assert_eq(history_stats(h)->expired, 5,
	             "the sweep drops the stale entries without being asked for them");
	cr_assert_eq(history_stats(h)->entries, 1);
	history_free(h);
}

Test(history, keeps_entries_forever_when_the_ttl_is_zero)
{
	struct history *h = history_new(8, 0, sizeof(struct record));
	put(h, 1, 1);
	cr_assert_not_null(get(h, 1, UINT64_MAX));
	history_free(h);
}

Test(history, treats_time_stepping_back_as_no_time_passing)
{
	struct history *h = history_new(8, 100, sizeof(struct record));
	put(h, 1, 1000);
	cr_assert_not_null(get(h, 1, 500));
	put(h, 1, 500); /* an older touch time does not rewind the entry */
	cr_assert_not_null(get(h, 1, 1100));
	history_free(h);
}

Test(history, evicts_the_least_recently_touched_entry_at_the_cap)
{
	struct history *h = history_new(3, 0, sizeof(struct record));
	put(h, 1, 1);
	put(h, 2, 2);
	put(h, 3, 3);
	put(h, 1, 4); /* 2 is now the oldest */
	put(h, 4, 5);
	cr_assert_null(get(h, 2, 6));
	cr_assert_not_null(get(h, 1, 6));
	cr_assert_not_null(get(h, 3, 6));
	cr_assert_not_null(get(h, 4, 6));
	const struct history_stats *st = history_stats(h);
	cr_assert_eq(st->entries, 3);
	cr_assert_eq(st->evicted, 1);
	cr_assert_eq(st->inserted, 4);
	history_free(h);
}

Test(history, never_holds_more_than_the_cap)
{
	struct history *h = history_new(100, 0, sizeof(struct record));
	for (int i = 0; i < 1000; i++)
		put(h, i, (uint64_t)i);
	const struct history_stats *st = history_stats(h);
	cr_assert_eq(st->entries, 100);
	cr_assert_eq(st->evicted, 900);
	cr_assert_eq(st->inserted, 1000);
	for (int i = 900; i < 1000; i++)
		cr_assert_eq(get(h, i, 1000)->value, i);
	cr_assert_null(get(h, 899, 1000));
	history_free(h);
}

Test(history, counts_a_touch_of_a_known_key_as_no_insert)
{
	struct history *h = history_new(8, 0, sizeof(struct record));
	put(h, 1, 1);
	put(h, 1, 2);
	cr_assert_eq(history_stats(h)->inserted, 1);
	cr_assert_eq(history_stats(h)->entries, 1);
	history_free(h);
}

Test(history, tells_a_pair_from_its_reverse)
{
	struct history *h = history_new(8, 0, sizeof(struct record));
	struct ip_addr a = v4(203, 0, 113, 7), b = v4(198, 51, 100, 25);
	struct history_key ab = history_key_pair(&a, &b), ba = history_key_pair(&b, &a);
	((struct record *)history_touch(h, &ab, 1))->value = 7;
	cr_assert_null(history_find(h, &ba, 1));
	cr_assert_eq(((struct record *)history_find(h, &ab, 1))->value, 7);
	history_free(h);
}

Test(history, tells_ipv4_from_ipv6_with_the_same_bytes)
{
	struct history *h = history_new(8, 0, sizeof(struct record));
	struct ip_addr a4 = v4(1, 2, 3, 4), a6 = a4;
	a6.family = 6;
	struct history_key k4 = history_key_ip(&a4), k6 = history_key_ip(&a6);
	history_touch(h, &k4, 1);
	cr_assert_null(history_find(h, &k6, 1));
	history_free(h);
}

Test(history, refuses_a_zero_cap_and_frees_null)
{
	cr_assert_null(history_new(0, 0, sizeof(struct record)));
	history_free(NULL);
}

Test(history, keeps_records_aligned_for_any_type)
{
	struct history *h = history_new(4, 0, sizeof(uint64_t));
	struct history_key k = key_n(1);
	void *r = history_touch(h, &k, 1);
	cr_assert_eq((uintptr_t)r % _Alignof(max_align_t), 0);
	history_free(h);
}

/* ---- persistence ---- */

struct exported {
	int values[16];
	uint64_t seen[16];
	int n;
};

static int collect(void *ctx, const struct history_key *k, uint64_t seen_us, const void *value)
{
	struct exported *x = ctx;
	cr_assert_lt(x->n, 16);
	x->values[x->n] = ((const struct record *)value)->value;
	x->seen[x->n++] = seen_us;
	return 0;
}

Test(history, exports_newest_first_only_what_was_touched_after_a_point)
{
	struct history *h = history_new(16, 0, sizeof(struct record));
	put(h, 1, 10);
	put(h, 2, 20);
	uint64_t mark = history_seq(h);
	put(h, 3, 30);
	put(h, 1, 40); /* touched again: changed since the mark */
	struct exported x = {0};
	cr_assert_eq(history_export(h, mark, collect, &x), 0);
	cr_assert_eq(x.n, 2);
	cr_assert_eq(x.values[0], 1);
	cr_assert_eq(x.seen[0], 40);
	cr_assert_eq(x.values[1], 3);
	struct exported all = {0};
	history_export(h, 0, collect, &all);
	cr_assert_eq(all.n, 3);
	history_free(h);
}

static int stop_after_one(void *ctx, const struct history_key *k, uint64_t seen_us, const void *value)
{
	(*(int *)ctx)++;
	return 7;
}

Test(history, an_export_stops_at_the_first_refusal_and_says_so)
{
	struct history *h = history_new(16, 0, sizeof(struct record));
	put(h, 1, 10);
	put(h, 2, 20);
	int calls = 0;
	cr_assert_eq(history_export(h, 0, stop_after_one, &calls), 7);
	cr_assert_eq(calls, 1);
	history_free(h);
}

Test(history, restores_records_with_their_times_so_they_still_expire)
{
	struct history *h = history_new(16, 100, sizeof(struct record));
	struct history_key k = key_n(5);
	struct record r = {.value = 55};
	cr_assert(history_restore(h, &k, 1000, &r));
	cr_assert_eq(history_value_size(h), sizeof r);
	cr_assert_eq(get(h, 5, 1050)->value, 55);
	cr_assert_null(get(h, 5, 1101), "restored at 1000, TTL 100");
	history_free(h);
}

Test(history, restoring_past_the_cap_keeps_the_newest)
{
	struct history *h = history_new(2, 0, sizeof(struct record));
	for (int n = 1; n <= 3; n++) {
		struct history_key k = key_n(n);
		struct record r = {.value = n};
		cr_assert(history_restore(h, &k, (uint64_t)n * 10, &r));
	}
	cr_assert_null(get(h, 1, 40));
	cr_assert_eq(get(h, 3, 40)->value, 3);
	cr_assert_eq(history_stats(h)->evicted, 1);
	history_free(h);
}

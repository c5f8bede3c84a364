/* test_metrics.c: the Prometheus rendering names every family once, escapes labels, and fits or says so. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/metrics.h"

static struct metrics_snapshot snap;

static char *render(void)
{
	static char buf[256 * 1024];
	long n = metrics_render(&snap, "0.1.0", buf, sizeof buf);
	cr_assert_gt(n, 0);
	cr_assert_eq(buf[n - 1], '\n');
	return buf;
}

Test(metrics, the_required_families_are_there_with_their_values)
{
	memset(&snap, 0, sizeof snap);
	snap.c.packets = 42;
	snap.c.bytes = 4200;
	snap.c.capture_dropped = 7;
	snap.c.memcap_used = 123456;
	snap.c.flows_active = 3;
	snap.c.emergency = true;
	snap.sessions_by_result[STARTTLS_UPGRADED] = 5;
	snap.c.alerts[RULE_EHLO_DOWNGRADE] = 2;
	snap.state_db_errors = 1;
	snap.reloads_ok = 4;
	snap.reloads_failed = 1;
	const char *text = render();
	static const char *const want[] = {
	    "tlsobs_build_info{version=\"0.1.0\"} 1\n",
	    "tlsobs_packets_total 42\n",
	    "tlsobs_bytes_total 4200\n",
	    "tlsobs_capture_kernel_drops_total 7\n",
	    "tlsobs_flow_memory_bytes 123456\n",
	    "tlsobs_flows_active 3\n",
	    "tlsobs_emergency_mode 1\n",
	    "tlsobs_sessions_total{result=\"upgraded\"} 5\n",
	    "tlsobs_sessions_total{result=\"not_offered\"} 0\n",
	    "tlsobs_alerts_total{rule=\"ehlo_downgrade\"} 2\n",
	    "tlsobs_kafka_spool_bytes 0\n",
	    "tlsobs_state_db_errors_total 1\n",
	    "tlsobs_config_reloads_total{result=\"success\"} 4\n",
	    "tlsobs_config_reloads_total{result=\"failure\"} 1\n",
	    "# TYPE tlsobs_kafka_messages_total counter\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_assert_not_null(strstr(text, want[i]), "missing: %s", want[i]);
}

Test(metrics, kafka_topics_become_topic_and_state_labels)
{
	memset(&snap, 0, sizeof snap);
	snap.nkafka = 1;
	snprintf(snap.kafka[0].topics[0], sizeof snap.kafka[0].topics[0], "tlsobs.session");
	snprintf(snap.kafka[0].topics[1], sizeof snap.kafka[0].topics[1], "odd\"name\\");
	snap.kafka[0].stats[0].delivered = 9;
	snap.kafka[0].spool_bytes = 512;
	const char *text = render();
	cr_assert_not_null(
	    strstr(text, "tlsobs_kafka_messages_total{topic=\"tlsobs.session\",state=\"delivered\"} 9\n"));
	cr_assert_not_null(strstr(text, "topic=\"odd\\\"name\\\\\""), "label values are escaped");
	cr_assert_not_null(strstr(text, "tlsobs_kafka_spool_bytes 512\n"));
}

Test(metrics, every_family_is_declared_once)
{
	memset(&snap, 0, sizeof snap);
	const char *text = render();
	for (const char *p = strstr(text, "# TYPE "); p; p = strstr(p + 1, "# TYPE ")) {
		char name[128];
		cr_assert_eq(sscanf(p + 7, "%127s", name), 1);
		char needle[160];
		snprintf(needle, sizeof needle, "# TYPE %s ", name);
		cr_assert_eq(strstr(text, needle), p, "%s declared twice", name);
	}
}

Test(metrics, a_buffer_too_small_is_refused_not_cut)
{
	memset(&snap, 0, sizeof snap);
	char small[100];
	cr_assert_eq(metrics_render(&snap, "0.1.0", small, sizeof small), -1);
}

Test(metrics, the_board_hands_out_the_last_published_snapshot)
{
	struct metrics_board *b = metrics_board_new("0.1.0");
	cr_assert_not_null(b);
	memset(&snap, 0, sizeof snap);
	snap.c.packets = 1;
	metrics_board_publish(b, &snap);
	snap.c.packets = 2;
	metrics_board_publish(b, &snap);
	size_t len;
	char *text = metrics_board_render(b, &len);
	cr_assert_not_null(text);
	cr_assert_not_null(strstr(text, "tlsobs_packets_total 2\n"));
	cr_assert_eq(strlen(text) >= len, true);
	free(text);
	metrics_board_free(b);
}

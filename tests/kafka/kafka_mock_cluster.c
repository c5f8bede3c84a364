/*
 * kafka_mock_cluster.c: a Kafka cluster for the tests, speaking the real wire protocol on loopback.
 *
 * librdkafka carries a mock cluster (rdkafka_mock.h) that brokers produce and fetch requests like Apache
 * Kafka; this program hosts one so that tlsobs and kcat reach it over TCP exactly as they would a production
 * cluster.
 *
 *   kafka_mock_cluster [-b BROKERS] [-p TOPIC_PREFIX] [-n PARTITIONS]
 *
 * Prints the bootstrap servers (one line), then reads commands on stdin, one per line, answering "ok" or
 * "error: ..." to each:
 *   down all | up all | down N | up N     take brokers (ids 1..BROKERS) down or up
 *   quit                                  exit (so does the end of stdin)
 * The topics <prefix>session, alert, certificate and stats are created up front (prefix "tlsobs." and any
 * -p).
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_BROKERS = 16, MAX_PREFIXES = 8, LINE_MAX_BYTES = 256 };

static const char *const types[] = {"session", "alert", "certificate", "stats", "policy"};

struct options {
	int brokers, partitions;
	const char *prefixes[MAX_PREFIXES];
	int nprefixes;
};

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	o->brokers = 3;
	o->partitions = 3;
	o->prefixes[o->nprefixes++] = "tlsobs.";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-b") == 0 && v && parse_int(v, 1, MAX_BROKERS, &o->brokers) == 0)
			i++;
		else if (strcmp(a, "-n") == 0 && v && parse_int(v, 1, 64, &o->partitions) == 0)
			i++;
		else if (strcmp(a, "-p") == 0 && v && o->nprefixes < MAX_PREFIXES)
			o->prefixes[o->nprefixes++] = argv[++i];
		else if (parse_int(a, 1, MAX_BROKERS, &o->brokers) ==
		         0) /* a bare N, as in "kafka_mock_cluster 3" */
			continue;
		else
			return -1;
	}
	return 0;
}

static int create_topics(rd_kafka_mock_cluster_t *mc, const struct options *o)
{
	for (int p = 0; p < o->nprefixes; p++) {
		for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
			char name[256];
			snprintf(name, sizeof name, "%s%s", o->prefixes[p], types[t]);
			int rf = o->brokers < 3 ? o->brokers : 3;
			rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, o->partitions, rf);
			if (err) {
				fprintf(stderr, "kafka_mock_cluster: topic %s: %s\n", name,
				        rd_kafka_err2str(err));
				return -1;
			}
		}
	}
	return 0;
}

/* One command line; the answer goes to stdout. */
static void run_command(rd_kafka_mock_cluster_t *mc, const struct options *o, char *line)
{
	char verb[16], what[16];
	int id;
	if (sscanf(line, "%15s %15s", verb, what) != 2 ||
	    (strcmp(verb, "down") != 0 && strcmp(verb, "up") != 0)) {
		printf("error: expected down|up all|N, or quit\n");
		return;
	}
	int first = 1, last = o->brokers;
	if (strcmp(what, "all") != 0) {
		if (parse_int(what, 1, o->brokers, &id) != 0) {
			printf("error: no broker %s (1..%d)\n", what, o->brokers);
			return;
		}
		first = last = id;
	}
	for (int b = first; b <= last; b++) {
		rd_kafka_resp_err_t err = strcmp(verb, "down") == 0 ? rd_kafka_mock_broker_set_down(mc, b)
		                                                    : rd_kafka_mock_broker_set_up(mc, b);
		if (err) {
			printf("error: broker %d: %s\n", b, rd_kafka_err2str(err));
			return;
		}
	}
	printf("ok\n");
}

int main(int argc, char **argv)
{
	struct options o = {0};
	if (parse_options(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: kafka_mock_cluster [-b BROKERS] [-p TOPIC_PREFIX] [-n PARTITIONS]\n");
		return 2;
	}
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* The handle only hosts the cluster; it never connects anywhere itself. */
	if (rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka_mock_cluster: %s\n", err);
		return 1;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "kafka_mock_cluster: %s\n", err);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, o.brokers);
	if (!mc || create_topics(mc, &o) != 0) {
		fprintf(stderr, "kafka_mock_cluster: cannot start the mock cluster\n");
		return 1;
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	char line[LINE_MAX_BYTES];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (strcmp(line, "quit") == 0) {
			printf("ok\n");
			fflush(stdout);
			break;
		}
		run_command(mc, &o, line);
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}

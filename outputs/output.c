#include "outputs/output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/json_writer.h"
#include "outputs/kafka_output.h"

struct output {
	char *spec;
	FILE *file; /* json: outputs */
	bool owns_file;
	struct kafka_output *kafka; /* kafka: outputs */
	uint64_t written, failed;
};

static int open_json(struct output *o, const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0) {
		o->file = stdout;
		return 0;
	}
	o->file = fopen(path, "a");
	if (!o->file) {
		snprintf(err, errlen, "-o %s: %s", o->spec, strerror(errno));
		return -1;
	}
	o->owns_file = true;
	return 0;
}

struct output *output_open(const char *spec, const struct kafka_settings *kafka, char *err, size_t errlen)
{
	bool json = strncmp(spec, "json:", 5) == 0 && spec[5] != '\0';
	bool kafka_spec = strncmp(spec, "kafka:", 6) == 0 && spec[6] != '\0';
	if (!json && !kafka_spec) {
		snprintf(err, errlen, "-o %s: unknown output (expected json:-, json:PATH or kafka:HOST:PORT[,...])",
			 spec);
		return NULL;
	}
	struct output *o = calloc(1, sizeof *o);
	if (!o || !(o->spec = strdup(spec))) {
		snprintf(err, errlen, "-o %s: out of memory", spec);
		free(o);
		return NULL;
	}
	int rc;
	if (json) {
		rc = open_json(o, spec + 5, err, errlen);
	} else {
		static const struct kafka_settings defaults; /* kafka_output_new fills in its defaults */
		o->kafka = kafka_output_new(spec + 6, kafka ? kafka : &defaults, err, errlen);
		rc = o->kafka ? 0 : -1;
	}
	if (rc != 0) {
		free(o->spec);
		free(o);
		return NULL;
	}
	return o;
}

int output_write(struct output *o, const struct output_event *ev)
{
	int rc;
	if (o->kafka) {
		rc = kafka_output_produce(o->kafka, ev);
	} else {
		rc = (fwrite(ev->json, 1, ev->len, o->file) == ev->len && fputc('\n', o->file) != EOF &&
		      fflush(o->file) == 0)
			     ? 0
			     : -1;
	}
	if (rc == 0)
		o->written++;
	else
		o->failed++;
	return rc;
}

void output_poll(struct output *o)
{
	if (o->kafka)
		kafka_output_poll(o->kafka);
}

const char *output_spec(const struct output *o)
{
	return o->spec;
}

void output_print_stats(const struct output *o, FILE *out)
{
	if (o->kafka)
		kafka_output_print_stats(o->kafka, out);
	else
		fprintf(out, "tlsobs: output %s: %" PRIu64 " events written, %" PRIu64 " failed\n", o->spec, o->written,
			o->failed);
}

void output_stats_json(const struct output *o, struct json_writer *w)
{
	if (o->kafka) {
		kafka_output_stats_json(o->kafka, w);
		return;
	}
	json_object_begin(w);
	json_field_cstring(w, "spec", o->spec);
	json_field_uint(w, "written", o->written);
	json_field_uint(w, "failed", o->failed);
	json_object_end(w);
}

int output_close(struct output *o, FILE *summary)
{
	if (!o)
		return 0;
	int rc = o->failed ? -1 : 0;
	if (o->kafka) {
		if (kafka_output_flush(o->kafka) > 0)
			rc = -1;
		if (summary)
			kafka_output_print_stats(o->kafka, summary);
		kafka_output_free(o->kafka);
	} else {
		if (summary)
			output_print_stats(o, summary);
		if (fflush(o->file) != 0)
			rc = -1;
		if (o->owns_file && fclose(o->file) != 0)
			rc = -1;
	}
	free(o->spec);
	free(o);
	return rc;
}

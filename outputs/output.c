#include "outputs/output.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct output {
	char *spec;
	FILE *file;
	bool owns_file;
	struct output_stats stats;
};

struct output *output_open(const char *spec, char *err, size_t errlen)
{
	if (strncmp(spec, "json:", 5) != 0 || spec[5] == '\0') {
		snprintf(err, errlen, "-o %s: unknown output (expected json:- or json:PATH)", spec);
		return NULL;
	}
	struct output *o = calloc(1, sizeof *o);
	if (!o)
		goto fail_memory;
	o->spec = strdup(spec);
	if (!o->spec)
		goto fail_memory;
	const char *path = spec + 5;
	if (strcmp(path, "-") == 0) {
		o->file = stdout;
	} else {
		o->file = fopen(path, "a");
		if (!o->file) {
			snprintf(err, errlen, "-o %s: %s", spec, strerror(errno));
			goto fail;
		}
		o->owns_file = true;
	}
	return o;
fail_memory:
	snprintf(err, errlen, "-o %s: out of memory", spec);
fail:
	if (o)
		free(o->spec);
	free(o);
	return NULL;
}

int output_write(struct output *o, const struct output_event *ev)
{
	if (fwrite(ev->json, 1, ev->len, o->file) != ev->len || fputc('\n', o->file) == EOF ||
	    fflush(o->file) != 0) {
		o->stats.failed++;
		return -1;
	}
	o->stats.written++;
	return 0;
}

const struct output_stats *output_stats(const struct output *o)
{
	return &o->stats;
}

const char *output_spec(const struct output *o)
{
	return o->spec;
}

int output_close(struct output *o)
{
	if (!o)
		return 0;
	int rc = fflush(o->file) == 0 ? 0 : -1;
	if (o->owns_file && fclose(o->file) != 0)
		rc = -1;
	free(o->spec);
	free(o);
	return rc;
}

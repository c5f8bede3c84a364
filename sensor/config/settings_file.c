/*
 * settings_file.c: the whole configuration step (settings_file.h): the YAML file or nothing, the --set
 * overrides, the unknown-key check, then the typed settings, each mistake reported on its own line.
 */
#include "sensor/config/settings_file.h"

#include "outputs/logger.h"
#include "sensor/config/config.h"

/* At start: "tlsobs: ..." lines on `errors`, as any command-line tool; on a reload (errors NULL): the log. */
static void report(FILE *errors, const char *message)
{
	if (errors)
		fprintf(errors, "tlsobs: %s\n", message);
	else
		logger_log(LOGGER_ERROR, "config", "%s", message);
}

static void print_unknown_key(const char *message, void *ctx)
{
	report(ctx, message);
}

static int settings_from(int fd, const char *path, char *const *sets, size_t nsets,
                         struct sensor_settings *out, FILE *errors)
{
	struct config_error err;
	struct config *cfg = !path     ? config_new()
	                     : fd >= 0 ? config_load_fd(fd, path, &err)
	                               : config_load_file(path, &err);
	if (!cfg) {
		report(errors, path ? err.message : "out of memory");
		return -1;
	}
	int rc = -1;
	for (size_t i = 0; i < nsets; i++)
		if (config_set(cfg, sets[i], &err) != 0) {
			report(errors, err.message);
			goto done;
		}
	if (settings_check_unknown(cfg, print_unknown_key, errors) > 0)
		goto done;
	if (settings_load(cfg, out, &err) != 0) {
		report(errors, err.message);
		goto done;
	}
	rc = 0;
done:
	config_free(cfg); /* everything needed lives in *out */
	return rc;
}

int settings_from_file(const char *path, char *const *sets, size_t nsets, struct sensor_settings *out,
                       FILE *errors)
{
	return settings_from(-1, path, sets, nsets, out, errors);
}

int settings_from_fd(int fd, const char *path, char *const *sets, size_t nsets, struct sensor_settings *out,
                     FILE *errors)
{
	return settings_from(fd, path, sets, nsets, out, errors);
}

/* test_settings_runtime.c: log.* and metrics.listen are typed and checked, with a message naming the key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sensor/config/config.h"
#include "sensor/config/settings_runtime.h"

static int load(const char *yaml, struct runtime_settings *rt, struct config_error *err)
{
	struct config *cfg = config_load_buffer(yaml, strlen(yaml), "t.yaml", err);
	cr_assert_not_null(cfg, "%s", err->message);
	int rc = settings_runtime_load(cfg, rt, err);
	config_free(cfg);
	return rc;
}

Test(settings_runtime, defaults_are_stderr_notice_and_no_endpoint)
{
	struct runtime_settings rt;
	struct config_error err;
	cr_assert_eq(load("{}\n", &rt, &err), 0);
	cr_assert_eq(rt.log_level, LOGGER_NOTICE);
	cr_assert_eq(rt.log_target, LOGGER_STDERR);
	cr_assert_str_eq(rt.metrics_host, "");
}

Test(settings_runtime, log_and_metrics_are_read)
{
	struct runtime_settings rt;
	struct config_error err;
	cr_assert_eq(
	    load("log:\n  level: debug\n  target: syslog\nmetrics:\n  listen: \"[::1]:9332\"\n", &rt, &err),
	    0, "%s", err.message);
	cr_assert_eq(rt.log_level, LOGGER_DEBUG);
	cr_assert_eq(rt.log_target, LOGGER_SYSLOG);
	cr_assert_str_eq(rt.metrics_host, "::1");
	cr_assert_eq(rt.metrics_port, 9332);
}

Test(settings_runtime, mistakes_name_the_key_and_line)
{
	struct runtime_settings rt;
	struct config_error err;
	cr_assert_eq(load("log:\n  level: loud\n", &rt, &err), -1);
	cr_assert_not_null(strstr(err.message, "t.yaml:2: log.level"), "%s", err.message);
	cr_assert_eq(load("log:\n  target: file\n", &rt, &err), -1);
	cr_assert_not_null(strstr(err.message, "log.target"), "%s", err.message);
	static const char *const bad[] = {"9332",       "localhost:9332", "127.0.0.1:0",  "127.0.0.1:65536",
	                                  "127.0.0.1:", "[::1:9332",      "127.0.0.1:93x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char yaml[128];
		snprintf(yaml, sizeof yaml, "metrics:\n  listen: \"%s\"\n", bad[i]);
		cr_assert_eq(load(yaml, &rt, &err), -1, "%s accepted", bad[i]);
		cr_assert_not_null(strstr(err.message, "metrics.listen"), "%s", err.message);
	}
}

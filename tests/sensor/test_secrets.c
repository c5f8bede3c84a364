/* test_secrets.c: Kafka secrets come from files and the environment, and no message carries one. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/config/config.h"
#include "sensor/config/secrets.h"
#include "sensor/config/settings.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/tlsobs-secrets-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(secrets, .init = make_dir, .fini = remove_dir);

static void write_file(const char *name, const char *text, mode_t mode, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
}

static struct sensor_settings load(const char *yaml)
{
	struct config_error err = {{0}};
	struct config *cfg = config_load_buffer(yaml, strlen(yaml), "test.yaml", &err);
	cr_assert_not_null(cfg, "%s", err.message);
	struct sensor_settings s;
	cr_assert_eq(settings_load(cfg, &s, &err), 0, "%s", err.message);
	config_free(cfg);
	return s;
}

static const char *property(const struct sensor_settings *s, const char *name)
{
	for (unsigned i = 0; i < s->kafka.nproperties; i++)
		if (strcmp(s->kafka.properties[i].name, name) == 0)
			return s->kafka.properties[i].value;
	return NULL;
}

Test(secrets, a_password_file_and_an_environment_variable_become_the_properties)
{
	char path[256], yaml[1024];
	write_file("pw", "S3cret-from-file\n", 0600, path, sizeof path);
	setenv("TLSOBS_TEST_SECRET", "S3cret-from-env", 1);
	snprintf(yaml, sizeof yaml,
	         "kafka:\n  properties:\n    sasl.username: alice\n    sasl.password_file: %s\n"
	         "    ssl.key.password_env: TLSOBS_TEST_SECRET\n",
	         path);
	struct sensor_settings s = load(yaml);
	cr_assert_eq(s.nsecrets, 2);
	cr_assert_null(property(&s, "sasl.password"), "not read before secrets_resolve");
	char err[512] = "";
	cr_assert_eq(secrets_resolve(&s, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(property(&s, "sasl.password"), "S3cret-from-file",
	                 "the trailing newline is dropped");
	cr_assert_str_eq(property(&s, "ssl.key.password"), "S3cret-from-env");
	cr_assert_str_eq(property(&s, "sasl.username"), "alice");
	cr_assert_null(property(&s, "sasl.password_file"));
	settings_free(&s);
}

Test(secrets, errors_name_the_key_and_file_but_never_the_value)
{
	char path[256], yaml[1024], err[512] = "";
	write_file("long", "", 0600, path, sizeof path);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 600; i++)
		fputc('Q', f);
	fclose(f);
	snprintf(yaml, sizeof yaml, "kafka:\n  properties:\n    sasl.password_file: %s\n", path);
	struct sensor_settings s = load(yaml);
	cr_assert_eq(secrets_resolve(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "sasl.password_file") && strstr(err, path) && strstr(err, "longer than 511"),
	          "%s", err);
	cr_assert_null(strstr(err, "QQQQ"), "%s", err);
	settings_free(&s);

	s = load("kafka:\n  properties:\n    sasl.password_file: /nonexistent/pw\n");
	cr_assert_eq(secrets_resolve(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "/nonexistent/pw: No such file"), "%s", err);
	settings_free(&s);

	s = load("kafka:\n  properties:\n    sasl.password: Direct1\n    sasl.password_env: X\n");
	cr_assert_eq(secrets_resolve(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "given both"), "%s", err);
	cr_assert_null(strstr(err, "Direct1"), "%s", err);
	settings_free(&s);
}

/* The warnings, read back from a memory stream. */
static char *warnings(const char *config_path, const struct sensor_settings *s, char *const *sets,
                      size_t nsets)
{
	static char buf[4096];
	memset(buf, 0, sizeof buf);
	FILE *out = fmemopen(buf, sizeof buf - 1, "w");
	secrets_warn(config_path, s, sets, nsets, out);
	fclose(out);
	return buf;
}

Test(secrets, warns_about_files_others_can_read_and_secrets_on_the_command_line)
{
	char pw[256], cfg[256], yaml[1024];
	write_file("pw", "x", 0644, pw, sizeof pw);
	snprintf(yaml, sizeof yaml,
	         "kafka:\n  properties:\n    sasl.password_file: %s\n    ssl.key.password: y\n", pw);
	write_file("c.yaml", yaml, 0644, cfg, sizeof cfg);
	struct sensor_settings s = load(yaml);
	char set[] = "kafka.properties.sasl.oauthbearer.client.secret=zzz";
	char *sets[] = {set};
	const char *w = warnings(cfg, &s, sets, 1);
	cr_assert(strstr(w, "c.yaml (mode 0644) holds a Kafka secret"), "%s", w);
	cr_assert(strstr(w, "sasl.password_file:") &&
	              strstr(w, "(mode 0644) is readable by every local user"),
	          "%s", w);
	cr_assert(
	    strstr(w, "--set kafka.properties.sasl.oauthbearer.client.secret: a secret on the command line"),
	    "%s", w);
	cr_assert_null(strstr(w, "zzz"), "%s", w);

	cr_assert_eq(chmod(cfg, 0640), 0);
	cr_assert_eq(chmod(pw, 0600), 0);
	cr_assert_str_eq(warnings(cfg, &s, NULL, 0), "", "private files: no warning");
	settings_free(&s);
}

Test(secrets, knows_the_secret_properties)
{
	cr_assert(secrets_is_secret("sasl.password"));
	cr_assert(secrets_is_secret("ssl.key.password"));
	cr_assert(secrets_is_secret("ssl.keystore.password"));
	cr_assert(secrets_is_secret("sasl.oauthbearer.client.secret"));
	cr_assert(secrets_is_secret("ssl.key.pem"));
	cr_assert_not(secrets_is_secret("sasl.username"));
	cr_assert_not(secrets_is_secret("bootstrap.servers"));
}

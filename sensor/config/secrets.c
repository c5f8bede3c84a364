/*
 * secrets.c: Kafka credentials from files and the environment, and warnings where one is exposed
 * (see secrets.h).
 */
#include "sensor/config/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* librdkafka's properties that hold a credential or a private key (CONFIGURATION.md, "sensitive"). */
static const char *const secret_words[] = {"password", "secret", "ssl.key.pem", "sasl.oauthbearer.config"};

bool secrets_is_secret(const char *property)
{
	for (size_t i = 0; i < sizeof secret_words / sizeof secret_words[0]; i++)
		if (strstr(property, secret_words[i]))
			return true;
	return false;
}

/* The file's bytes, without one trailing newline (CRLF or LF): -1 with errno set (EFBIG: too long). */
static int read_secret_file(const char *path, char *out, size_t cap)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	size_t used = 0;
	ssize_t n;
	while (used < cap && (n = read(fd, out + used, cap - used)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		used += (size_t)n;
	}
	close(fd);
	if (used > 0 && out[used - 1] == '\n')
		used--;
	if (used > 0 && out[used - 1] == '\r')
		used--;
	if (used >= cap) {
		explicit_bzero(out, cap);
		errno = EFBIG;
		return -1;
	}
	out[used] = '\0';
	return 0;
}

static int resolve_one(const struct settings_secret *sec, struct kafka_property *p, char *err, size_t errlen)
{
	snprintf(p->name, sizeof p->name, "%s", sec->property);
	if (sec->env) {
		const char *v = getenv(sec->source);
		if (!v || strlen(v) >= sizeof p->value) {
			snprintf(err, errlen, "kafka.properties.%s_env: %s: %s", sec->property, sec->source,
			         v ? "longer than 511 bytes" : "not set in the environment");
			return -1;
		}
		snprintf(p->value, sizeof p->value, "%s", v);
		return 0;
	}
	if (read_secret_file(sec->source, p->value, sizeof p->value) != 0) {
		snprintf(err, errlen, "kafka.properties.%s_file: %s: %s", sec->property, sec->source,
		         errno == EFBIG    ? "longer than 511 bytes"
		         : errno == EINVAL ? "not a regular file"
		                           : strerror(errno));
		return -1;
	}
	return 0;
}

int secrets_resolve(struct sensor_settings *settings, char *err, size_t errlen)
{
	struct kafka_settings *k = &settings->kafka;
	for (unsigned i = 0; i < settings->nsecrets; i++) {
		const struct settings_secret *sec = &settings->secrets[i];
		for (unsigned j = 0; j < k->nproperties; j++) {
			if (strcmp(k->properties[j].name, sec->property) == 0) {
				snprintf(err, errlen, "kafka.properties.%s: given both directly and with _%s",
				         sec->property, sec->env ? "env" : "file");
				return -1;
			}
		}
		if (k->nproperties >= KAFKA_MAX_PROPERTIES) {
			snprintf(err, errlen, "kafka.properties: more than %d properties",
			         KAFKA_MAX_PROPERTIES);
			return -1;
		}
		if (resolve_one(sec, &k->properties[k->nproperties], err, errlen) != 0)
			return -1;
		k->nproperties++;
	}
	settings->nsecrets = 0;
	return 0;
}

/* Readable by users other than the owner and the group (mode o+r). */
static bool others_read(const char *path, unsigned *mode)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	*mode = (unsigned)(st.st_mode & 07777);
	return (st.st_mode & S_IROTH) != 0;
}

/* Whether a --set gives kafka.properties.<property>. */
static bool set_names(char *const *sets, size_t nsets, const char *property)
{
	size_t n = strlen(property);
	for (size_t i = 0; i < nsets; i++)
		if (strncmp(sets[i], "kafka.properties.", 17) == 0 &&
		    strncmp(sets[i] + 17, property, n) == 0 && sets[i][17 + n] == '=')
			return true;
	return false;
}

unsigned secrets_warn(const char *config_path, const struct sensor_settings *settings, char *const *sets,
                      size_t nsets, FILE *out)
{
	unsigned n = 0, mode = 0;
	const struct kafka_settings *k = &settings->kafka;
	bool direct = false; /* a secret written in the configuration file itself (not given by --set) */
	for (unsigned i = 0; i < k->nproperties; i++)
		direct = direct || (secrets_is_secret(k->properties[i].name) &&
		                    !set_names(sets, nsets, k->properties[i].name));
	if (direct && config_path && others_read(config_path, &mode) && ++n)
		fprintf(out,
		        "tlsobs: warning: %s (mode %04o) holds a Kafka secret and is readable by every local "
		        "user: chmod o-r, or move the secret to a file (kafka.properties.NAME_file)\n",
		        config_path, mode);
	for (unsigned i = 0; i < settings->nsecrets; i++) {
		const struct settings_secret *sec = &settings->secrets[i];
		if (!sec->env && others_read(sec->source, &mode) && ++n)
			fprintf(out,
			        "tlsobs: warning: kafka.properties.%s_file: %s (mode %04o) is readable by "
			        "every local user: chmod o-r\n",
			        sec->property, sec->source, mode);
	}
	for (size_t i = 0; i < nsets; i++) {
		const char *eq = strchr(sets[i], '=');
		size_t klen = eq ? (size_t)(eq - sets[i]) : strlen(sets[i]);
		char key[160];
		snprintf(key, sizeof key, "%.*s", (int)(klen < sizeof key ? klen : sizeof key - 1), sets[i]);
		if (strncmp(key, "kafka.properties.", 17) == 0 && secrets_is_secret(key + 17) &&
		    !strstr(key, "_file") && !strstr(key, "_env") && ++n)
			fprintf(out,
			        "tlsobs: warning: --set %s: a secret on the command line is visible to every "
			        "local user (/proc/PID/cmdline, ps): use %s_file in the configuration\n",
			        key, key);
	}
	return n;
}

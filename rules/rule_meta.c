/* rule_meta.c: rule.ruleset from the rule's id range (see rule_meta.h). */
#include "rules/rule_meta.h"

#include <stdlib.h>
#include <string.h>

const char *rule_ruleset(const struct rule_info *r)
{
	static const struct {
		unsigned first, last;
		const char *name;
	} ranges[] = {
		{1001, 1019, "starttls_downgrade"}, {1020, 1029, "cleartext_exposure"},
		{1030, 1039, "tls_quality"},        {1040, 1049, "partner_policy"},
		{1050, 1059, "certificate_lifetime"},
	};
	const char *prefix = "tlsobs-";
	if (!r || !r->id || strncmp(r->id, prefix, strlen(prefix)) != 0)
		return "tlsobs";
	char *end = NULL;
	unsigned long n = strtoul(r->id + strlen(prefix), &end, 10);
	if (!end || *end)
		return "tlsobs";
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (n >= ranges[i].first && n <= ranges[i].last)
			return ranges[i].name;
	return "tlsobs";
}

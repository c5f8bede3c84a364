/* rule_meta.c: rule.ruleset, a column of the rule table (see rule_meta.h). */
#include "rules/rule_meta.h"

#include <stddef.h>

const char *rule_ruleset(const struct rule_info *r)
{
	return r && r->ruleset ? r->ruleset : "tlsobs";
}

/* ip_text.c: test addresses from text (ip_text.h). Owns nothing. */
#include "ip_text.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

struct ip_addr addr(const char *text)
{
	struct ip_addr a;
	memset(&a, 0, sizeof a);
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.family = 6;
	else
		cr_assert_fail("bad test address %s", text);
	return a;
}

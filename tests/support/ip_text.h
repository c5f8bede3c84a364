/*
 * ip_text.h: an address written as text in a test (IPv4 or IPv6, as
 * inet_pton reads it) turned into the decoder's struct ip_addr, the test
 * failing on a typo. Serves the parsers layer and those above it.
 */
#ifndef TLSOBS_TEST_IP_TEXT_H
#define TLSOBS_TEST_IP_TEXT_H

#include "parsers/packet_decode.h"

struct ip_addr addr(const char *text);

#endif

/*
 * test_smtp_content_protection.c: tlsobs.smtp.content_protection: messages that crossed in clear,
 * counted by the end-to-end protection of their top-level Content-Type, through DATA and BDAT,
 * fed whole, byte by byte and at random cuts; only counts are kept, never the message.
 */
#include "parsers/smtp.h"
#include "smtp_transcript.h"

#include <criterion/criterion.h>
#include <string.h>

#define ENVELOPE                                                                                             \
	STEP(C, "MAIL FROM:<a@example.org>\r\n"), STEP(S, "250 2.1.0 Ok\r\n"),                               \
	    STEP(C, "RCPT TO:<b@example.net>\r\n"), STEP(S, "250 2.1.5 Ok\r\n")
#define SENTINEL "tlsobs-body-sentinel-7f3a"

static const struct step t_three[] = {
    GREETING,
    EHLO,
    ENVELOPE,
    STEP(C, "DATA\r\n"),
    STEP(S, "354 End data with <CR><LF>.<CR><LF>\r\n"),
    STEP(C, "Subject: signed\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
            " micalg=sha-256; boundary=\"b\"\r\n\r\n--b\r\n" SENTINEL "\r\n.\r\n"),
    STEP(S, "250 2.0.0 Ok: queued\r\n"),
    ENVELOPE,
    STEP(C, "DATA\r\n"),
    STEP(S, "354 go\r\n"),
    STEP(C, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=x\r\n\r\n"
            "..Content-Type: text/plain\r\n" SENTINEL "\r\n.\r\n"),
    STEP(S, "250 2.0.0 Ok: queued\r\n"),
    ENVELOPE,
    STEP(C, "DATA\r\n"),
    STEP(S, "354 go\r\n"),
    STEP(C, "Subject: plain\r\n\r\nContent-Type: application/pkcs7-mime\r\n" SENTINEL "\r\n.\r\n"),
    STEP(S, "250 2.0.0 Ok: queued\r\n"),
    STEP(C, "QUIT\r\n"),
    STEP(S, "221 bye\r\n")};

static const struct step t_bdat[] = {
    GREETING,
    EHLO,
    ENVELOPE,
    STEP(C, "BDAT 38\r\nContent-Type: application/pkcs7-mime; "),
    STEP(S, "250 2.0.0 38 octets\r\n"),
    STEP(C, "BDAT 53 LAST\r\nsmime-type=signed-data\r\n\r\n" SENTINEL "\r\n"),
    STEP(S, "250 2.0.0 Ok: queued\r\n"),
    ENVELOPE,
    STEP(C, "BDAT 22\r\nSubject: nothing\r\n\r\nab"),
    STEP(S, "250 2.0.0 22 octets\r\n"),
    STEP(C, "BDAT 0 LAST\r\n"),
    STEP(S, "250 2.0.0 Ok: queued\r\n")};

static const struct step t_refused[] = {
    GREETING, EHLO, ENVELOPE,
    /* DATA refused: no message */
    STEP(C, "DATA\r\n"), STEP(S, "554 no valid recipients\r\n"), ENVELOPE,
    /* content pipelined before its 354 (RFC 2920 3.1 says to wait): counted once the 354 comes */
    STEP(C, "DATA\r\nContent-Type: application/pkcs7-mime\r\n\r\nx\r\n.\r\n"),
    STEP(S, "354 go\r\n250 queued\r\n")};

static void assert_counts(const struct smtp_observation *o, uint32_t messages, uint32_t unprotected,
                          uint32_t smime_enc, uint32_t smime_sig, uint32_t pgp_enc, uint32_t pgp_sig)
{
	const struct smtp_content_protection *c = &o->content_protection;
	cr_assert_eq(c->messages, messages);
	cr_assert_eq(c->unprotected, unprotected);
	cr_assert_eq(c->smime_encrypted, smime_enc);
	cr_assert_eq(c->smime_signed, smime_sig);
	cr_assert_eq(c->pgp_encrypted, pgp_enc);
	cr_assert_eq(c->pgp_signed, pgp_sig);
}

Test(smtp_content_protection, each_data_message_counts_by_its_own_top_level_content_type)
{
	struct outcome *o = RUN(t_three);
	assert_counts(o->obs, 3, 1, 0, 1, 1, 0);
	cr_assert(!observation_holds(o->obs, SENTINEL));
	cr_assert(!observation_holds(o->obs, "pkcs7-signature"), "the Content-Type is not kept either");
	done(o);
}

Test(smtp_content_protection, a_bdat_message_is_scanned_across_its_chunks_and_counted_at_last)
{
	struct outcome *o = RUN(t_bdat);
	assert_counts(o->obs, 2, 1, 0, 1, 0, 0);
	cr_assert(!observation_holds(o->obs, SENTINEL));
	done(o);
}

Test(smtp_content_protection,
     a_refused_data_is_no_message_and_content_before_its_354_counts_once_the_354_comes)
{
	struct outcome *o = RUN(t_refused);
	assert_counts(o->obs, 1, 0, 1, 0, 0, 0);
	done(o);
}

Test(smtp_content_protection, split_feed_counts_the_same_whole_byte_by_byte_and_at_random_cuts)
{
	const struct transcript ts[] = {{"three", t_three, N_STEPS(t_three)},
	                                {"bdat", t_bdat, N_STEPS(t_bdat)},
	                                {"refused", t_refused, N_STEPS(t_refused)}};
	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		struct outcome *whole = run_prefix(ts[i].steps, ts[i].n, NULL, CUT_WHOLE, 0, SIZE_MAX);
		for (uint64_t seed = 1; seed <= 8; seed++) {
			struct outcome *o = run_prefix(ts[i].steps, ts[i].n, NULL,
			                               seed == 1 ? CUT_BYTES : CUT_RANDOM, seed, SIZE_MAX);
			cr_assert_eq(memcmp(&o->obs->content_protection, &whole->obs->content_protection,
			                    sizeof whole->obs->content_protection),
			             0, "%s seed %llu", ts[i].name, (unsigned long long)seed);
			done(o);
		}
		done(whole);
	}
}

Test(smtp_content_protection, every_prefix_counts_no_more_than_the_whole)
{
	size_t total = transcript_bytes(t_three, N_STEPS(t_three));
	for (size_t n = 0; n <= total; n += 3) {
		struct outcome *o = run_prefix(t_three, N_STEPS(t_three), NULL, CUT_RANDOM, n, n);
		cr_assert_leq(o->obs->content_protection.messages, 3);
		done(o);
	}
}

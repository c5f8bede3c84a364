/*
 * smtp_sessions.c: the SMTP sessions the parser tests share; see the header.
 */
#include "smtp_sessions.h"

/* ---- transcripts copied from the fixture captures ---- */

const struct step cap_mitm_mask[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-XXXXXXXA\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 32, "MAIL FROM:<sender@example.org>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 300,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: sender@example.org\r\n"
     "Subject: tlsobs fixture mitm-mask\r\n"
     "Message-Id: <mitm-mask@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture mitm-mask (through a man in the middle).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as 1996DA725D2\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
const struct step cap_pipelining[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 65,
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"
     "DATA\r\n"},
    {S, 65,
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"
     "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 330,
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture pipelining-multi 1\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <pipelining-multi-1@client.example.org>\r\n"
     "\r\n"
     "Message 1 of 3 in one pipelined session.\r\n"
     "..leading dot is stuffed\r\n"
     "bye\r\n"
     ".\r\n"
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"
     "DATA\r\n"},
    {S, 102,
     "250 2.0.0 Ok: queued as D1D42A7274D\r\n"
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"
     "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 330,
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture pipelining-multi 2\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <pipelining-multi-2@client.example.org>\r\n"
     "\r\n"
     "Message 2 of 3 in one pipelined session.\r\n"
     "..leading dot is stuffed\r\n"
     "bye\r\n"
     ".\r\n"
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"
     "DATA\r\n"},
    {S, 102,
     "250 2.0.0 Ok: queued as D23D2A7274E\r\n"
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"
     "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 271,
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture pipelining-multi 3\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <pipelining-multi-3@client.example.org>\r\n"
     "\r\n"
     "Message 3 of 3 in one pipelined session.\r\n"
     "..leading dot is stuffed\r\n"
     "bye\r\n"
     ".\r\n"
     "QUIT\r\n"},
    {S, 52,
     "250 2.0.0 Ok: queued as D2E60A7274F\r\n"
     "221 2.0.0 Bye\r\n"},
};
const struct step cap_bdat[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 59,
     "MAIL FROM:<sender@example.org>\r\n"
     "RCPT TO:<bob@example.net>\r\n"},
    {S, 28,
     "250 2.1.0 Ok\r\n"
     "250 2.1.5 Ok\r\n"},
    {C, 168,
     "BDAT 158\r\n"
     "From: <sender@example.org>\r\n"
     "To: <bob@example.net>\r\n"
     "Subject: tlsobs fixture bdat 1\r\n"
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "Message-Id: <bdat-1@client.example.o"},
    {S, 25, "250 2.0.0 Ok: 158 bytes\r\n"},
    {C, 173,
     "BDAT 158 LAST\r\n"
     "rg>\r\n"
     "\r\n"
     "This message is sent with BDAT (RFC 3030).\r\n"
     ".a line starting with a dot is NOT stuffed in BDAT\r\n"
     "BDAT 999 LAST (this line is data, not a command)\r\n"
     "bye\r\n"},
    {S, 47, "250 2.0.0 Ok: 316 bytes queued as D39AEA726E3\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
const struct step cap_auth_cleartext[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 188,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-AUTH PLAIN LOGIN\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 61, "AUTH PLAIN AGFsaWNlQGV4YW1wbGUubmV0AGZpeHR1cmUtcGFzc3dvcmQ=\r\n"},
    {S, 37, "235 2.7.0 Authentication successful\r\n"},
    {C, 31, "MAIL FROM:<alice@example.net>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 301,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: alice@example.net\r\n"
     "Subject: tlsobs fixture auth-cleartext\r\n"
     "Message-Id: <auth-cleartext@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture auth-cleartext (AUTH in clear!).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as CDE4DA72756\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
const struct step cap_starttls_tls13[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 10, "STARTTLS\r\n"},
    {S, 30, "220 2.0.0 Ready to start TLS\r\n"},
    {C, 24, "\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03\x8d\xf5\xe9q\xae&\x16\xa4~\xa1\x09\xae\x06"},
};
const struct step cap_inject_command[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 16,
     "STARTTLS\r\n"
     "RSET\r\n"},
    {S, 30, "220 2.0.0 Ready to start TLS\r\n"},
    {C, 24,
     "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03L\xe6\xa5\xff\xe8\xcd\xf9"
     "4\xaf\xf5\xed\xf9#"},
};
const struct step cap_rewrite_command[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 10, "XXXXXXXX\r\n"},
    {S, 41, "500 5.5.2 Error: command not recognized\r\n"},
    {C, 32, "MAIL FROM:<sender@example.org>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 333,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: sender@example.org\r\n"
     "Subject: tlsobs fixture mitm-rewrite-command\r\n"
     "Message-Id: <mitm-rewrite-command@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture mitm-rewrite-command (through a man in the middle).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as 1D881A72763\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};
const struct step cap_refused_454[] = {
    {S, 35, "220 mx1.example.net ESMTP Postfix\r\n"},
    {C, 25, "EHLO client.example.org\r\n"},
    {S, 166,
     "250-mx1.example.net\r\n"
     "250-PIPELINING\r\n"
     "250-SIZE 10240000\r\n"
     "250-VRFY\r\n"
     "250-ETRN\r\n"
     "250-STARTTLS\r\n"
     "250-ENHANCEDSTATUSCODES\r\n"
     "250-8BITMIME\r\n"
     "250-DSN\r\n"
     "250-SMTPUTF8\r\n"
     "250 CHUNKING\r\n"},
    {C, 10, "STARTTLS\r\n"},
    {S, 50, "454 4.7.0 TLS not available due to local problem\r\n"},
    {C, 32, "MAIL FROM:<sender@example.org>\r\n"},
    {S, 14, "250 2.1.0 Ok\r\n"},
    {C, 27, "RCPT TO:<bob@example.net>\r\n"},
    {S, 14, "250 2.1.5 Ok\r\n"},
    {C, 6, "DATA\r\n"},
    {S, 37, "354 End data with <CR><LF>.<CR><LF>\r\n"},
    {C, 337,
     "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
     "To: bob@example.net\r\n"
     "From: sender@example.org\r\n"
     "Subject: tlsobs fixture starttls-refused-454\r\n"
     "Message-Id: <starttls-refused-454@client.example.org>\r\n"
     "X-Mailer: swaks v20201014.0 jetmore.org/john/code/swaks/\r\n"
     "\r\n"
     "Hello from tlsobs fixture starttls-refused-454 (STARTTLS refused, sent in clear).\r\n"
     "\r\n"
     "\r\n"
     ".\r\n"},
    {S, 37, "250 2.0.0 Ok: queued as BB213A721FD\r\n"},
    {C, 6, "QUIT\r\n"},
    {S, 15, "221 2.0.0 Bye\r\n"},
};

/* ---- hand-written transcripts ---- */

const struct step t_data[] = {
    GREETING,
    EHLO,
    STEP(C, "mail from:<Alice@Example.ORG> SIZE=300 BODY=8BITMIME\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n"),
    STEP(C, "RCPT TO:<bob@Example.net>\r\n"),
    STEP(S, "250 2.1.5 Ok\r\n"),
    STEP(C, "DATA\r\n"),
    STEP(S, "354 End data with <CR><LF>.<CR><LF>\r\n"),
    STEP(C, "Subject: x\r\n\r\n..stuffed line\r\n.x\r\nBODY-SENTINEL-7f3a9c\r\n.\r\n"),
    STEP(S, "250 2.0.0 Ok: queued as 1996DA725D2\r\n"),
    STEP(C, "QUIT\r\n"),
    STEP(S, "221 2.0.0 Bye\r\n"),
};

const struct step t_auth_login[] = {
    GREETING,
    STEP(C, "ehlo client.example.org\r\n"),
    STEP(S, "250-mx1.example.net\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n"),
    STEP(C, "AUTH login\r\n"),
    STEP(S, "334 VXNlcm5hbWU6\r\n"),
    STEP(C, "YWxpY2VAZXhhbXBsZS5uZXQ=\r\n"),
    STEP(S, "334 UGFzc3dvcmQ6\r\n"),
    STEP(C, "c2VjcmV0LXBhc3N3b3Jk\r\n"),
    STEP(S, "235 2.7.0 Authentication successful\r\n"),
    STEP(C, "MAIL FROM:<alice@example.net>\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n"),
};

const struct step t_starttls[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\n"),
    STEP(S, "220 2.0.0 Ready to start TLS\r\n\x16\x03\x03\x00\x7a\x02\x00"),
    STEP(C, "\x16\x03\x01\x00\xf4\x01\x00\x00\xf0"),
    STEP(S, "\x14\x03\x03\x00\x01\x01"),
};

const struct step t_inject_held_tls[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\nRSET\r\n\x16\x03\x01\x00\x05hello"),
    STEP(S, "220 2.0.0 Ready to start TLS\r\n"),
    STEP(C, "\x17\x03\x03"),
};

const struct step t_early_client_hello[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\n\x16\x03\x01\x00\x02"
            "ab"),
    STEP(S, "220 2.0.0 Ready to start TLS\r\n"),
};

const struct step t_refused_then_clear[] = {
    GREETING,
    EHLO,
    STEP(C, "STARTTLS\r\nMAIL FROM:<sender@example.org>\r\n"),
    STEP(S, "454 4.7.0 TLS not available due to local problem\r\n250 2.1.0 Ok\r\n"),
    STEP(C, "RCPT TO:<bob@example.net>\r\n"),
    STEP(S, "250 2.1.5 Ok\r\n"),
};

const struct step t_masked_command[] = {
    GREETING,
    EHLO,
    STEP(C, "XXXXXXXX\r\n"),
    STEP(S, "502 5.5.2 Error: command not recognized\r\n"),
    STEP(C, "MAIL FROM:<>\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n"),
};

const struct step t_pipelined_bdat[] = {
    GREETING,
    EHLO,
    STEP(C, "MAIL FROM:<a@one.example>\r\nRCPT TO:<x@dest.example>\r\nBDAT 5 LAST\r\nm1\r\n."
            "MAIL FROM:<a@one.example>\r\nRCPT TO:<y@other.example>\r\nBDAT 3 LAST\r\nm2."
            "MAIL FROM:<a@one.example>\r\nRCPT TO:<z@dest.example>\r\nBDAT 0 LAST\r\nQUIT\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 5 bytes queued as A\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 3 bytes queued as B\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 0 bytes queued as C\r\n221 2.0.0 Bye\r\n"),
};

const struct step t_bdat_binary[] = {
    GREETING,
    EHLO,
    STEP(C, "MAIL FROM:<a@one.example>\r\nRCPT TO:<x@dest.example>\r\n"),
    STEP(S, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
    STEP(C, "BDAT 27 LAST\r\nx\r\n.\r\nSTARTTLS\r\n\0\xff\x16\x03\x01QUIT\r\n"),
    STEP(S, "250 2.0.0 Ok: 27 bytes queued\r\n"),
    STEP(C, "QUIT\r\n"),
    STEP(S, "221 2.0.0 Bye\r\n"),
};

const struct step t_odd_lines[] = {
    STEP(S, "220-mx1.example.net ESMTP\n220-second\r\n221 mismatched\r\n"),
    STEP(C, "EH\0LO x\r\n"),
    STEP(S, "garbage\r\n500 5.5.2 Error: bad syntax\r\n"),
    STEP(C, "NOOP\n"),
    STEP(S, "250 2.0.0 Ok\r\n250 unasked\r\n"),
};

const struct transcript transcripts[] = {
#define T(a)                                                                                                 \
	{                                                                                                    \
#a, a, N_STEPS(a)                                                                            \
	}
    T(t_data),
    T(t_auth_login),
    T(t_starttls),
    T(t_inject_held_tls),
    T(t_early_client_hello),
    T(t_refused_then_clear),
    T(t_masked_command),
    T(t_pipelined_bdat),
    T(t_bdat_binary),
    T(t_odd_lines),
    T(cap_mitm_mask),
    T(cap_pipelining),
    T(cap_bdat),
    T(cap_auth_cleartext),
    T(cap_starttls_tls13),
    T(cap_inject_command),
    T(cap_rewrite_command),
    T(cap_refused_454),
#undef T
};

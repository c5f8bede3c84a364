#!/usr/bin/env bash
# make-fixtures.sh - regenerate tlsobs' SMTP/STARTTLS test captures
# (tests/fixtures/*.pcap) with real mail software.
#
# Usage (as root, Debian 12):
#   scripts/make-fixtures.sh                 # all scenarios
#   scripts/make-fixtures.sh SCENARIO...     # only these (see --list)
#   scripts/make-fixtures.sh --list
#
# What it does:
#   * creates three private network namespaces joined by veth pairs
#       client  203.0.113.10   2001:db8:113::10   (dev cli0)
#       router  203.0.113.1 / 198.51.100.1, 2001:db8:113::1 / 2001:db8:100::1
#               (forwards; runs scripts/smtp-mitm-proxy.py for MITM scenarios)
#       server  198.51.100.25  2001:db8:100::25   (dev srv0)
#     No traffic ever leaves these namespaces (no default routes anywhere).
#   * runs a private Postfix instance (postfix -c DIR, own queue/data dirs) in
#     the server namespace: smtpd on 25, submission on 587 (Cyrus SASL/sasldb),
#     smtps on 465; TLS certificate from a small CA made here with openssl.
#   * uses swaks (and, for pipelining of several messages and BDAT, a small
#     python socket client embedded below) in the client namespace;
#   * captures each scenario with tcpdump on the server's veth (and, for MITM
#     scenarios, also on the client's veth), then checks the capture with tshark.
#
# Environment:
#   TLSOBS_FIXTURE_KEYDIR  where the (test-only) CA and server private keys are
#                          kept between runs, so a partial re-run keeps using the
#                          certificates in tests/fixtures/certs/
#                          (default /var/tmp/tlsobs-fixture-keys)
#   KEEP_WORKDIR=1         keep the temporary work dir (postfix logs, swaks output)
#   TLSOBS_FIXTURE_NS      prefix of the namespace names (default tlsobs-fx), so that two
#                          runs on one machine do not tear down each other's namespaces

set -euo pipefail
export LC_ALL=C
umask 022

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/tests/fixtures
PROXY=$REPO/scripts/smtp-mitm-proxy.py
PY=/usr/bin/python3
KEYDIR=${TLSOBS_FIXTURE_KEYDIR:-/var/tmp/tlsobs-fixture-keys}

NS_PREFIX=${TLSOBS_FIXTURE_NS:-tlsobs-fx}
NS_SRV=$NS_PREFIX-srv
NS_RTR=$NS_PREFIX-rtr
NS_CLI=$NS_PREFIX-cli
SRV4=198.51.100.25;  RTRS4=198.51.100.1
CLI4=203.0.113.10;   RTRC4=203.0.113.1
SRV6=2001:db8:100::25; RTRS6=2001:db8:100::1
CLI6=2001:db8:113::10; RTRC6=2001:db8:113::1
DOMAIN=example.net
MX=mx1.example.net
HELO=client.example.org
SASL_USER=alice@example.net
SASL_PASS=fixture-password
FIXED_DATE="Thu, 01 Jan 2026 00:00:00 +0000"

# name -> one-line description (README.md is generated from this table)
declare -A DESC=(
  [smtp-plain]="Port 25, server offers no STARTTLS (smtpd_tls_security_level=none); one message in clear."
  [starttls-tls12]="Port 25, EHLO/STARTTLS then TLS 1.2 (client forced with swaks --tls-protocol tlsv1_2), message inside TLS."
  [starttls-tls13]="Port 25, EHLO/STARTTLS then TLS 1.3 (client forced with --tls-protocol tlsv1_3), message inside TLS."
  [submission-auth-587]="Port 587, STARTTLS (TLS 1.3) then AUTH PLAIN (Cyrus SASL) and a message, all inside TLS."
  [smtps-465]="Port 465, implicit TLS (smtpd_tls_wrappermode=yes): TLS handshake first, then SMTP inside TLS."
  [ipv6-starttls]="As starttls-tls13 but over IPv6 (2001:db8:113::10 -> 2001:db8:100::25)."
  [pipelining-multi]="Port 25 in clear, server offers no STARTTLS (smtpd_tls_security_level=none), PIPELINING: 3 messages in one session; MAIL/RCPT/DATA in one write, end-of-data + next envelope in one write, '.'+QUIT in one write (python client)."
  [bdat]="Port 25 in clear, server offers no STARTTLS (smtpd_tls_security_level=none), CHUNKING: MAIL/RCPT then 'BDAT n' + 'BDAT n LAST' with binary-safe chunk data (python client)."
  [auth-cleartext]="Port 587 without TLS: AUTH PLAIN credentials in clear (server smtpd_tls_auth_only=no), STARTTLS offered but unused."
  [client-ignores-starttls]="Port 25, server advertises STARTTLS, client ignores it and sends the message in clear."
  [mitm-mask.client-side]="MITM 'mask', client link: EHLO reply shows 250-XXXXXXXA instead of 250-STARTTLS; client (swaks --tls-optional) sends in clear."
  [mitm-mask.server-side]="MITM 'mask', server link: server advertised STARTTLS, the client side never used it; message in clear."
  [mitm-remove.client-side]="MITM 'remove', client link: STARTTLS capability line deleted from the EHLO reply; message in clear."
  [mitm-remove.server-side]="MITM 'remove', server link: server advertised STARTTLS, not used; message in clear."
  [mitm-rewrite-command.client-side]="MITM 'rewrite-command', client link: client sends STARTTLS, gets the server's 502 (for XXXXXXXX), continues in clear."
  [mitm-rewrite-command.server-side]="MITM 'rewrite-command', server link: server receives XXXXXXXX, answers 502 5.5.2, session continues in clear."
  [mitm-refuse.client-side]="MITM 'refuse', client link: client's STARTTLS answered '454 4.7.0 TLS not available due to local problem' by the proxy; message in clear."
  [mitm-refuse.server-side]="MITM 'refuse', server link: server never sees STARTTLS although advertised; message in clear."
  [mitm-inject-command.client-side]="MITM 'inject-command', client link: ordinary STARTTLS, TLS 1.3 session and message, as the client sees it."
  [mitm-inject-command.server-side]="MITM 'inject-command', server link: 'STARTTLS\\r\\nRSET\\r\\n' in one segment (plaintext command injection); Postfix discards the injected RSET, answers 220 only, TLS 1.3 session follows."
  [mitm-inject-response.client-side]="MITM 'inject-response', client link: '220 2.0.0 Ready to start TLS\\r\\n250 injected\\r\\n' in one segment (response injection); swaks takes '250 injected' as its post-TLS EHLO reply, the session inside TLS goes out of step and is aborted."
  [mitm-inject-response.server-side]="MITM 'inject-response', server link: clean 220 to STARTTLS, TLS 1.3, then Postfix sees MAIL before the EHLO reply (improper pipelining) and a lost connection after DATA."
  [tls-blocked-then-plain.client-side]="MITM 'kill-handshake', client link: session 1 STARTTLS/220 then RST at the ClientHello; session 2 the client retries without TLS and sends in clear."
  [tls-blocked-then-plain.server-side]="MITM 'kill-handshake', server link: session 1 STARTTLS/220 then RST from the proxy (ClientHello never arrives); session 2 in clear."
  [large-1mb-plain]="Port 25 in clear, server offers no STARTTLS (smtpd_tls_security_level=none), one ~1 MB message (~13 400 lines of 76 chars): ~720 full-size segments; the slow reader (smtpd) causes zero-window / window-full / window-update episodes."
  [netem-reorder]="STARTTLS session plus ~200 KB clear message over a link with netem delay/reorder/duplicate/loss on the client's veth."
  [starttls-refused-454]="Port 25, server advertises STARTTLS but answers '454 4.7.0 TLS not available due to local problem' (missing key file); client continues in clear."
  [requiretls-in-clear]="Port 25 in clear, server offers no STARTTLS: 'MAIL FROM:<bob@example.org> REQUIRETLS' (Postfix 3.7 answers 555 5.5.4 Unsupported option), then a plain MAIL FROM and a message (python client)."
  [ehlo-refused-helo.client-side]="MITM 'refuse-ehlo', client link: the proxy answers the client's EHLO with '502 5.5.2 Error: command not recognized'; the client falls back to HELO and sends a message in clear (python client)."
  [ehlo-refused-helo.server-side]="MITM 'refuse-ehlo', server link: the server never sees the EHLO, only HELO (so no capabilities, no STARTTLS offer) and a message in clear."
  [ehlo-then-helo]="Two sessions from the same client to the same server (no STARTTLS offered, smtpd_tls_security_level=none): first EHLO (swaks), then HELO (swaks --protocol SMTP); each sends a message in clear."
  [fake-220.client-side]="MITM 'fake-220', client link only: the proxy answers STARTTLS itself with '220 2.0.0 Ready to start TLS', then answers the client's ClientHello with clear-text '554 5.7.0 TLS not available' and closes."
  [tls-version-mismatch]="Port 25, server TLS 1.3 only (smtpd_tls_protocols/smtpd_tls_mandatory_protocols = >=TLSv1.3): session 1 STARTTLS/220, client offers at most TLS 1.2 (swaks --tls-protocol tlsv1_2), server answers a fatal protocol_version alert; session 2 the client retries without TLS (STARTTLS offered, not used) and sends in clear."
  [stripped-then-clean.client-side]="Client link through the proxy, two sessions to the same address (203.0.113.1:25): session 1 proxy mode 'pass', STARTTLS offered and used (TLS 1.3); session 2 proxy mode 'remove', STARTTLS capability deleted, message in clear."
  [tls10-rsa]="Port 465 implicit TLS, openssl s_server/s_client both -tls1 -cipher DEFAULT:@SECLEVEL=0: TLS 1.0 handshake with the RSA mx1.example.net certificate; no application data, close_notify."
  [tls11]="Port 465 implicit TLS, openssl s_server/s_client both -tls1_1 -cipher DEFAULT:@SECLEVEL=0: TLS 1.1 handshake with the RSA mx1.example.net certificate; no application data, close_notify."
  [ecdsa-cert]="Port 465 implicit TLS 1.2 (openssl s_server/s_client): ECDSA P-256 certificate CN/SAN mx1.example.net from the fixture CA (certs/ecdsa.crt), ECDHE-ECDSA suite."
  [expired-cert]="Port 465 implicit TLS 1.2 (openssl s_server/s_client): certificate for mx1.example.net from the fixture CA valid 2020-01-01..2021-01-01 only (certs/expired.crt); client logs the verify error but completes the handshake."
  [self-signed-cert]="Port 465 implicit TLS 1.2 (openssl s_server/s_client): self-signed certificate CN/SAN mx1.example.net (certs/self-signed.crt); client logs the verify error but completes the handshake."
  [wrong-name-cert]="Port 465 implicit TLS 1.2 (openssl s_server/s_client): fixture-CA certificate for wrong.example.com (certs/wrong-name.crt) while the client asks for SNI mx1.example.net; client logs the hostname mismatch but completes the handshake."
  [tls12-resumed]="Port 465 implicit TLS 1.2, two sessions (openssl s_server -no_ticket / s_client -sess_out then -sess_in): the second ClientHello carries the first session id and the server resumes it (abbreviated handshake, no Certificate)."
  [tls13-hrr]="Port 465 implicit TLS 1.3: server -groups P-256 only, client -groups X25519:P-256 sends an X25519 key share -> HelloRetryRequest, second ClientHello with P-256, handshake completes."
  [tls-alert-bad-cert]="Port 465 implicit TLS 1.2: server presents the self-signed certificate, client (s_client -verify_return_error, trusting only the fixture CA) aborts with a fatal unknown_ca alert (48)."
  [nonstd-port-2525-starttls]="Port 2525 (an extra smtpd service): EHLO/STARTTLS then TLS 1.3 and a message inside TLS; for the nDPI classifier (SMTP off the standard ports)."
  [nonstd-port-10025-plain]="Port 10025 (an extra smtpd service), server offers no STARTTLS (smtpd_tls_security_level=none); one message in clear; for the nDPI classifier."
  [non-mail]="No SMTP at all, three flows on non-mail ports (Postfix stopped): HTTP GET to python3 -m http.server on 8080 (curl), TLS 1.3 on 8443 (openssl s_server -WWW / s_client, SNI www.example.net, GET /index.html inside), DNS over TCP on 53 (python server and client, A query www.example.net); for the nDPI classifier."
  [implicit-tls-587]="Port 587 with smtpd_tls_wrappermode=yes (a submission service set up for implicit TLS): the client (swaks --tls-on-connect) sends its ClientHello first, TLS 1.3, then AUTH PLAIN and a message inside TLS."
  [cleartext-on-465]="Port 465 WITHOUT wrapper mode (smtpd_tls_wrappermode=no on the smtps service): the server greets in clear text. Session 1: openssl s_client starts TLS at once, its ClientHello is answered in clear text and it gives up. Session 2: swaks without TLS on 465, STARTTLS offered but not used, a message in clear."
  [starttls-cut-after-220]="starttls-tls13.pcap cut (editcap -r) right after the server's '220 2.0.0 Ready to start TLS': no TLS byte, no FIN: the capture ends there."
  [demo]="Chronological merge (mergecap) of smtp-plain, starttls-tls13, mitm-mask.client-side and smtps-465, for 'make demo'."
)

# Order = priority order. MITM scenarios produce NAME.client-side.pcap and NAME.server-side.pcap.
ALL_SCENARIOS=(
  smtp-plain starttls-tls12 starttls-tls13 submission-auth-587 smtps-465 ipv6-starttls
  pipelining-multi bdat auth-cleartext client-ignores-starttls
  mitm-mask mitm-remove mitm-rewrite-command mitm-refuse mitm-inject-command mitm-inject-response
  tls-blocked-then-plain large-1mb-plain netem-reorder starttls-refused-454
  requiretls-in-clear ehlo-refused-helo fake-220 tls-version-mismatch
  expired-cert self-signed-cert wrong-name-cert ecdsa-cert tls12-resumed tls13-hrr tls-alert-bad-cert
  tls10-rsa tls11 ehlo-then-helo stripped-then-clean
  nonstd-port-2525-starttls nonstd-port-10025-plain non-mail
  implicit-tls-587 cleartext-on-465
)

log()  { printf '==> %s\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die()  { printf 'make-fixtures: ERROR: %s\n' "$*" >&2; exit 1; }
run()  { printf '    $ %s\n' "$*" >&2; "$@"; }

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_rtr() { ip netns exec "$NS_RTR" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# ---------------------------------------------------------------- arguments
if [[ ${1:-} == --list || ${1:-} == -l ]]; then
  printf '%s\n' "${ALL_SCENARIOS[@]}"; exit 0
fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0
fi
SCENARIOS=("$@")
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s' (try --list)"
done
[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, postfix, tcpdump)"

# ---------------------------------------------------------------- packages
ensure_packages() {
  local missing=() p
  for p in postfix swaks tcpdump openssl tshark iproute2 ethtool sasl2-bin libsasl2-modules \
           python3 wireshark-common perl libnet-ssleay-perl; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing missing packages: ${missing[*]}"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  local v; v=$(postconf -dh mail_version)
  [[ $v == 3.7* ]] || info "note: Postfix $v (fixtures were designed with 3.7)"
}

# ---------------------------------------------------------------- cleanup
WORK=""
BG_PIDS=()
cleanup() {
  local rc=$?
  set +e
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $PF && -f $PF/main.cf ]] && pf_stop quiet
  netns_teardown
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${KEEP_WORKDIR:-0} == 1 || $rc -ne 0 ]]; then
      info "work dir kept: $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit $rc
}

netns_teardown() {
  local ns pid
  for ns in "$NS_CLI" "$NS_RTR" "$NS_SRV"; do
    ip netns list | grep -qw "^$ns" || continue
    # only processes living in our own namespaces
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    sleep 0.2
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# ---------------------------------------------------------------- network
netns_setup() {
  log "creating network namespaces $NS_CLI <-> $NS_RTR <-> $NS_SRV"
  netns_teardown
  run ip netns add "$NS_SRV"
  run ip netns add "$NS_RTR"
  run ip netns add "$NS_CLI"
  # veth pairs created directly inside the namespaces (never in the host namespace)
  run ip -n "$NS_SRV" link add srv0 address 02:00:00:00:01:25 type veth \
      peer name rtr-s netns "$NS_RTR" address 02:00:00:00:01:01
  run ip -n "$NS_CLI" link add cli0 address 02:00:00:00:02:10 type veth \
      peer name rtr-c netns "$NS_RTR" address 02:00:00:00:02:01
  local ns
  for ns in "$NS_SRV" "$NS_RTR" "$NS_CLI"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_SRV" addr add "$SRV4/24" dev srv0
  ip -n "$NS_SRV" addr add "$SRV6/64" dev srv0 nodad
  ip -n "$NS_RTR" addr add "$RTRS4/24" dev rtr-s
  ip -n "$NS_RTR" addr add "$RTRS6/64" dev rtr-s nodad
  ip -n "$NS_RTR" addr add "$RTRC4/24" dev rtr-c
  ip -n "$NS_RTR" addr add "$RTRC6/64" dev rtr-c nodad
  ip -n "$NS_CLI" addr add "$CLI4/24" dev cli0
  ip -n "$NS_CLI" addr add "$CLI6/64" dev cli0 nodad
  # Software checksums and MTU-sized segments in the captures, like on a span port
  # (veth would otherwise show 64 KB GSO super-packets with unfilled checksums).
  local pair
  for pair in "$NS_SRV:srv0" "$NS_RTR:rtr-s" "$NS_RTR:rtr-c" "$NS_CLI:cli0"; do
    ip netns exec "${pair%%:*}" ethtool -K "${pair#*:}" tx off rx off tso off gso off gro off \
      >/dev/null 2>&1 || true
    ip -n "${pair%%:*}" link set "${pair#*:}" up
  done
  in_rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
  # only the documentation prefixes are routed; there is no default route anywhere
  ip -n "$NS_SRV" route add 203.0.113.0/24 via "$RTRS4"
  ip -n "$NS_SRV" -6 route add 2001:db8:113::/64 via "$RTRS6"
  ip -n "$NS_CLI" route add 198.51.100.0/24 via "$RTRC4"
  ip -n "$NS_CLI" -6 route add 2001:db8:100::/64 via "$RTRC6"
  info "server $SRV4 / $SRV6, router $RTRC4|$RTRS4, client $CLI4 / $CLI6"
}

# ---------------------------------------------------------------- certificates
make_certs() {
  log "certificates (CA + $MX), keys kept in $KEYDIR"
  mkdir -p "$KEYDIR"; chmod 700 "$KEYDIR"
  if [[ -s $KEYDIR/ca.key && -s $KEYDIR/ca.crt && -s $KEYDIR/mx1.key && -s $KEYDIR/mx1.crt ]] &&
     openssl verify -CAfile "$KEYDIR/ca.crt" "$KEYDIR/mx1.crt" >/dev/null 2>&1 &&
     openssl x509 -in "$KEYDIR/mx1.crt" -checkend 86400 -noout >/dev/null; then
    info "reusing existing CA and server certificate"
  else
    info "generating a new CA and server certificate"
    NEW_CERT=1
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -set_serial 1 \
      -keyout "$KEYDIR/ca.key" -out "$KEYDIR/ca.crt" \
      -subj "/O=tlsobs test fixtures/CN=tlsobs Fixture CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      2>/dev/null
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$KEYDIR/mx1.key" -out "$KEYDIR/mx1.csr" \
      -subj "/O=tlsobs test fixtures/CN=$MX" 2>/dev/null
    cat >"$KEYDIR/mx1.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$MX
EOF
    openssl x509 -req -in "$KEYDIR/mx1.csr" -CA "$KEYDIR/ca.crt" -CAkey "$KEYDIR/ca.key" \
      -set_serial 2 -days 3650 -sha256 -extfile "$KEYDIR/mx1.ext" -out "$KEYDIR/mx1.crt" 2>/dev/null
    rm -f "$KEYDIR/mx1.csr"
    chmod 600 "$KEYDIR"/*.key
  fi
  openssl verify -CAfile "$KEYDIR/ca.crt" "$KEYDIR/mx1.crt" >/dev/null || die "certificate does not verify"
  mkdir -p "$OUT/certs"
  # public parts only
  cp "$KEYDIR/ca.crt" "$OUT/certs/ca.crt"
  cp "$KEYDIR/mx1.crt" "$OUT/certs/mx1.example.net.crt"
  make_extra_certs
  if [[ -n ${NEW_CERT:-} && ${#SCENARIOS[@]} -lt ${#ALL_SCENARIOS[@]} && -f $OUT/MANIFEST ]]; then
    info "WARNING: new certificate on a partial run; pcaps not regenerated now used the previous one"
  fi
}

# certificates for the openssl s_server scenarios (keys in $KEYDIR, public parts in certs/):
#   ecdsa       ECDSA P-256, CN/SAN mx1.example.net, fixture CA
#   expired     RSA, CN/SAN mx1.example.net, fixture CA, valid 2020-01-01..2021-01-01 (openssl ca)
#   self-signed RSA, CN/SAN mx1.example.net, self-signed
#   wrong-name  RSA, CN/SAN wrong.example.com, fixture CA
make_extra_certs() {
  local k=$KEYDIR ext=$KEYDIR/extra.ext
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:\${ENV::FX_SAN}
EOF
  # regenerate a CA-signed one if it is missing or no longer chains to the current CA
  ca_ok() { [[ -s $k/$1.key && -s $k/$1.crt ]] &&
            openssl verify -no_check_time -CAfile "$k/ca.crt" "$k/$1.crt" >/dev/null 2>&1; }
  if ! ca_ok ecdsa; then
    info "generating ecdsa certificate (P-256)"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -keyout "$k/ecdsa.key" \
      -out "$k/ecdsa.csr" -subj "/O=tlsobs test fixtures/CN=$MX" 2>/dev/null
    FX_SAN=$MX openssl x509 -req -in "$k/ecdsa.csr" -CA "$k/ca.crt" -CAkey "$k/ca.key" -set_serial 3 \
      -days 3650 -sha256 -extfile "$ext" -out "$k/ecdsa.crt" 2>/dev/null
  fi
  if ! ca_ok wrong-name; then
    info "generating wrong-name certificate (wrong.example.com)"
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$k/wrong-name.key" -out "$k/wrong-name.csr" \
      -subj "/O=tlsobs test fixtures/CN=wrong.example.com" 2>/dev/null
    FX_SAN=wrong.example.com openssl x509 -req -in "$k/wrong-name.csr" -CA "$k/ca.crt" -CAkey "$k/ca.key" \
      -set_serial 4 -days 3650 -sha256 -extfile "$ext" -out "$k/wrong-name.crt" 2>/dev/null
  fi
  if ! ca_ok expired; then
    info "generating expired certificate (openssl ca, 2020-01-01..2021-01-01)"
    local cadir; cadir=$(mktemp -d "$k/ca.XXXXXX")
    : >"$cadir/index.txt"; echo 05 >"$cadir/serial"; mkdir "$cadir/new"
    cat >"$cadir/ca.cnf" <<EOF
[ ca ]
default_ca = fx
[ fx ]
dir = $cadir
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = pol
unique_subject = no
[ pol ]
organizationName = optional
commonName = supplied
EOF
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$k/expired.key" -out "$k/expired.csr" \
      -subj "/O=tlsobs test fixtures/CN=$MX" 2>/dev/null
    FX_SAN=$MX openssl ca -batch -notext -config "$cadir/ca.cnf" -cert "$k/ca.crt" -keyfile "$k/ca.key" \
      -startdate 20200101000000Z -enddate 20210101000000Z -extfile "$ext" \
      -in "$k/expired.csr" -out "$k/expired.crt" 2>"$cadir/err" || { cat "$cadir/err" >&2; die "openssl ca failed"; }
    rm -rf "$cadir"
  fi
  if ! [[ -s $k/self-signed.key && -s $k/self-signed.crt ]]; then
    info "generating self-signed certificate"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -set_serial 6 \
      -keyout "$k/self-signed.key" -out "$k/self-signed.crt" -subj "/O=tlsobs test fixtures/CN=$MX" \
      -addext "basicConstraints=critical,CA:FALSE" -addext "subjectAltName=DNS:$MX" \
      -addext "extendedKeyUsage=serverAuth" 2>/dev/null
  fi
  rm -f "$k"/*.csr
  chmod 600 "$k"/*.key
  openssl x509 -in "$k/expired.crt" -checkend 0 -noout >/dev/null 2>&1 && die "expired.crt is not expired"
  local c
  for c in ecdsa expired self-signed wrong-name; do cp "$k/$c.crt" "$OUT/certs/$c.crt"; done
}

# ---------------------------------------------------------------- postfix
PF=""   # config dir
PFV=""  # queue, data, sasldb, logs
pf_setup() {
  # config in $PF (root-owned), queue/data/sasldb/log outside it, as postfix-script expects
  PF=$WORK/postfix/etc
  PFV=$WORK/postfix
  log "private Postfix $(postconf -dh mail_version) instance: config $PF, queue $PFV/spool"
  mkdir -p "$PF/tls" "$PF/sasl" "$PFV/spool" "$PFV/data" "$PFV/sasldb" "$PFV/log"
  chown postfix:postfix "$PFV/data" "$PFV/sasldb"
  install -m 600 "$KEYDIR/mx1.key" "$PF/tls/mx1.key"
  cat "$KEYDIR/mx1.crt" "$KEYDIR/ca.crt" >"$PF/tls/mx1-chain.crt"
  # Cyrus SASL with a private sasldb
  cat >"$PF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $PFV/sasldb/sasldb2
EOF
  echo -n "$SASL_PASS" | saslpasswd2 -c -p -f "$PFV/sasldb/sasldb2" -u "$DOMAIN" "${SASL_USER%@*}"
  chown postfix:postfix "$PFV/sasldb/sasldb2"; chmod 640 "$PFV/sasldb/sasldb2"
  sasldblistusers2 -f "$PFV/sasldb/sasldb2" | grep -q "^$SASL_USER:" || die "saslpasswd2 failed"

  cat >"$PF/master.cf" <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp       inet  n       -       n       -       -       smtpd
submission inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination
smtps      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject_unauth_destination
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_start [param=value ...]: (re)write main.cf with overrides and start Postfix in the server netns
pf_start() {
  cat >"$PF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PFV/spool
data_directory = $PFV/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $PFV/log
maillog_file = $PFV/log/maillog
myhostname = $MX
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = $DOMAIN, $MX
inet_interfaces = $SRV4, $SRV6
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP Postfix
biff = no
# no DNS at all: nothing may leave the namespaces
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
# every accepted message is simply discarded (delivered nowhere)
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:tlsobs fixture
default_transport = discard:tlsobs fixture
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
message_size_limit = 10240000
anvil_rate_time_unit = 60s
smtpd_client_connection_rate_limit = 0
# TLS
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PF/tls/mx1-chain.crt
smtpd_tls_key_file = $PF/tls/mx1.key
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
# SASL (enabled on 587/465 in master.cf)
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PF/sasl
smtpd_sasl_auth_enable = no
EOF
  local kv
  for kv in "$@"; do
    info "postfix override: $kv"
    postconf -c "$PF" -e "$kv"
  done
  if ! in_srv postfix -c "$PF" start >"$PFV/log/start.log" 2>&1; then
    # postfix only prints its fatal errors on a terminal: re-run the check under script(1)
    in_srv script -qec "postfix -c $PF check" /dev/null >&2 || true
    tail -20 "$PFV/log/maillog" >&2
    die "postfix failed to start"
  fi
  local i
  for i in $(seq 50); do
    if [[ $(in_srv ss -Hltn | grep -cE ":(25|465|587)\b") -ge 6 ]]; then return 0; fi
    sleep 0.1
  done
  in_srv ss -ltn >&2; tail -20 "$PFV/log/maillog" >&2
  die "postfix is not listening on 25/465/587 (IPv4+IPv6)"
}

pf_stop() {
  [[ -n $PF && -f $PF/main.cf ]] || return 0
  local pidf=$PFV/spool/pid/master.pid pid=""
  [[ -f $pidf ]] && pid=$(tr -dc 0-9 <"$pidf")
  ip netns list | grep -qw "^$NS_SRV" && in_srv postfix -c "$PF" stop >/dev/null 2>&1 || true
  if [[ -n $pid ]]; then
    local i
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null || true
  fi
  [[ ${1:-} == quiet ]] || true
}

# pf_wait_port PORT: an extra smtpd service (postconf -M) is listening on IPv4
pf_wait_port() {
  local i
  for i in $(seq 50); do
    [[ -n $(in_srv ss -Hltn "sport = :$1") ]] && return 0
    sleep 0.1
  done
  in_srv ss -ltn >&2; tail -20 "$PFV/log/maillog" >&2
  die "postfix is not listening on $1"
}

# ---------------------------------------------------------------- capture
# cap_start NS DEV FILE -> starts tcpdump, waits until it listens
CAPS=()
cap_start() {
  local ns=$1 dev=$2 file=$3
  rm -f "$file"
  info "tcpdump on $ns/$dev -> $(basename "$file")"
  ip netns exec "$ns" tcpdump -i "$dev" -s 0 -U -n -Z root -w "$file" tcp >"$file.log" 2>&1 &
  local pid=$!
  BG_PIDS+=("$pid"); CAPS+=("$pid:$file")
  local i
  for i in $(seq 50); do
    grep -q "listening on" "$file.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$file.log" >&2; die "tcpdump did not start on $ns/$dev"
}

# stop all running captures (after letting the last FIN/ACKs pass)
cap_stop_all() {
  sleep 1
  local c pid file
  for c in "${CAPS[@]}"; do
    pid=${c%%:*}; file=${c#*:}
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    info "$(basename "$file"): $(grep -E 'packets (captured|dropped by kernel)' "$file.log" | tr '\n' ' ')"
    grep -qE "^0 packets dropped by kernel" "$file.log" || info "WARNING: tcpdump reports drops"
    [[ -s $file ]] || die "$(basename "$file") is empty"
    tshark -r "$file" -q >/dev/null 2>&1 || die "tshark cannot read $(basename "$file")"
    rm -f "$file.log"
  done
  CAPS=()
}

# ---------------------------------------------------------------- clients
swaks_cli() { # name, then extra swaks args; output -> $WORK/logs/name.swaks
  local name=$1; shift
  local logf=$WORK/logs/$name.swaks
  info "swaks $*"
  set +e
  in_cli swaks --helo "$HELO" --from "sender@example.org" --to "bob@$DOMAIN" \
    --header "Subject: tlsobs fixture $name" --header "Date: $FIXED_DATE" \
    --header "Message-Id: <$name@$HELO>" --timeout 30 "$@" >>"$logf" 2>&1
  local rc=$?
  set -e
  echo "### swaks exit $rc" >>"$logf"
  return $rc
}

expect_ok() { # name rc
  [[ $2 -eq 0 ]] || { tail -30 "$WORK/logs/$1.swaks" >&2; tail -20 "$PFV/log/maillog" >&2; die "$1: client failed (exit $2)"; }
}

write_pyclient() {
  cat >"$WORK/smtpclient.py" <<'EOF'
#!/usr/bin/env python3
# Minimal SMTP client for the pipelining-multi, bdat, requiretls-in-clear and
# ehlo-refused-helo fixtures.
import socket, sys

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
DATE = "Thu, 01 Jan 2026 00:00:00 +0000"
s = socket.create_connection((host, port), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")

def reply(expect):
    lines = []
    while True:
        l = f.readline()
        if not l:
            sys.exit("server closed the connection")
        print("S: " + l.decode("latin-1").rstrip())
        lines.append(l)
        if l[3:4] != b"-":
            break
    code = int(lines[0][:3])
    if code != expect and not (expect == 5 and code // 100 == 5):
        sys.exit("expected %d, got %d" % (expect, code))
    return lines

def send(b):
    for l in b.split(b"\r\n")[:-1] if b.endswith(b"\r\n") else [b]:
        print("C: " + l.decode("latin-1")[:100])
    s.sendall(b)

def message(i, name, body_lines):
    hdr = ("From: <sender@example.org>\r\nTo: <bob@example.net>\r\n"
           "Subject: tlsobs fixture %s %d\r\nDate: %s\r\nMessage-Id: <%s-%d@client.example.org>\r\n\r\n"
           % (name, i, DATE, name, i))
    return hdr.encode() + b"".join(l + b"\r\n" for l in body_lines)

def simple_transaction(name, sender):
    # one command at a time, no PIPELINING (also right after HELO)
    for cmd, code in ((b"MAIL FROM:<%s>" % sender, 250), (b"RCPT TO:<bob@example.net>", 250), (b"DATA", 354)):
        send(cmd + b"\r\n"); reply(code)
    body = message(1, name, [b"Hello from tlsobs fixture %s." % name.encode(), b"bye"])
    send(body + b".\r\n"); reply(250)
    send(b"QUIT\r\n"); reply(221)

ENV = b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@example.net>\r\n"
reply(220)
if mode == "ehlo-refused":
    send(b"EHLO client.example.org\r\n")
    reply(5)                                    # 502 from the proxy
    send(b"HELO client.example.org\r\n")     # fall back to HELO (RFC 5321 4.1.4)
    reply(250)
    caps = b""
else:
    send(b"EHLO client.example.org\r\n")
    caps = b"".join(reply(250)).upper()

if mode == "ehlo-refused":
    simple_transaction("ehlo-refused-helo", b"sender@example.org")
elif mode == "requiretls":
    send(b"MAIL FROM:<bob@example.org> REQUIRETLS\r\n")
    reply(5)                                    # Postfix 3.7: 555 5.5.4 Unsupported option
    simple_transaction("requiretls-in-clear", b"bob@example.org")
elif mode == "pipeline":
    assert b"PIPELINING" in caps, "no PIPELINING"
    n = 3
    send(ENV + b"DATA\r\n")                     # one write: MAIL, RCPT, DATA
    for i in range(1, n + 1):
        reply(250); reply(250); reply(354)
        body = message(i, "pipelining-multi", [b"Message %d of %d in one pipelined session." % (i, n),
                                               b".leading dot is stuffed", b"bye"])
        body = body.replace(b"\r\n.", b"\r\n..")
        if i < n:
            send(body + b".\r\n" + ENV + b"DATA\r\n")   # end of data + next envelope in one write
            reply(250)
        else:
            send(body + b".\r\nQUIT\r\n")                # end of data + QUIT in one write
            reply(250); reply(221)
elif mode == "bdat":
    assert b"CHUNKING" in caps, "no CHUNKING"
    send(ENV)
    reply(250); reply(250)
    msg = message(1, "bdat", [b"This message is sent with BDAT (RFC 3030).",
                              b".a line starting with a dot is NOT stuffed in BDAT",
                              b"BDAT 999 LAST (this line is data, not a command)",
                              b"bye"])
    cut = len(msg) // 2
    c1, c2 = msg[:cut], msg[cut:]
    send(b"BDAT %d\r\n" % len(c1) + c1)
    reply(250)
    send(b"BDAT %d LAST\r\n" % len(c2) + c2)
    reply(250)
    send(b"QUIT\r\n")
    reply(221)
else:
    sys.exit("unknown mode")
s.close()
EOF
}

py_cli() { # name mode host port
  local logf=$WORK/logs/$1.client
  info "python smtpclient $2 -> $3:$4"
  set +e
  in_cli "$PY" "$WORK/smtpclient.py" "$2" "$3" "$4" >"$logf" 2>&1
  local rc=$?
  set -e
  [[ $rc -eq 0 ]] || { cat "$logf" >&2; tail -20 "$PFV/log/maillog" >&2; die "$1: python client failed"; }
}

# ---------------------------------------------------------------- proxy
proxy_start() { # mode
  local mode=$1
  info "smtp-mitm-proxy --mode $mode on $RTRC4:25 -> $SRV4:25 (router namespace)"
  # not via the in_rtr function: $! must be the proxy's own pid
  ip netns exec "$NS_RTR" "$PY" "$PROXY" --listen "$RTRC4:25" --upstream "$SRV4:25" --mode "$mode" \
    --log "$WORK/logs/proxy-$mode.log" >"$WORK/logs/proxy-$mode.out" 2>&1 &
  PROXY_PID=$!
  BG_PIDS+=("$PROXY_PID")
  local i
  for i in $(seq 50); do
    grep -qx ready "$WORK/logs/proxy-$mode.out" 2>/dev/null && return 0
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/logs/proxy-$mode.out" >&2; die "proxy did not start"
}
proxy_stop() {
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
}

# ---------------------------------------------------------------- scenarios
P=""  # capture dir
scenario_begin() { # name [postfix overrides...]
  local name=$1; shift
  log "scenario $name"
  pf_start "$@"
  : >"$WORK/logs/$name.swaks"
}
scenario_end() {
  cap_stop_all
  pf_stop
}

run_scenario() {
  local n=$1 rc
  case $n in
  smtp-plain)
    scenario_begin "$n" "smtpd_tls_security_level = none"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --body "Hello from tlsobs fixture $n (cleartext, no STARTTLS offered)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_stream "$P/$n.pcap" "^250.STARTTLS" absent; expect_stream "$P/$n.pcap" "^250 2.0.0 Ok: queued" ;;
  starttls-tls12|starttls-tls13)
    local v=${n#starttls-tls}; v=tlsv1_${v#1}
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --tls --tls-protocol "$v" --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    [[ $n == starttls-tls12 ]] && expect_tls "$P/$n.pcap" 0x0303 || expect_tls "$P/$n.pcap" 0x0304 ;;
  submission-auth-587)
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 587 --tls --tls-sni "$MX" --from "$SASL_USER" \
      --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
      --body "Hello from tlsobs fixture $n (authenticated submission)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    grep -q "^<~  235" "$WORK/logs/$n.swaks" || die "$n: AUTH did not succeed"
    expect_tls "$P/$n.pcap" 0x0304; expect_stream "$P/$n.pcap" "AUTH" absent ;;
  smtps-465)
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 465 --tls-on-connect --tls-sni "$MX" --from "$SASL_USER" \
      --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
      --body "Hello from tlsobs fixture $n (implicit TLS)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_tls "$P/$n.pcap" 0x0304; expect_stream "$P/$n.pcap" "ESMTP" absent ;;
  ipv6-starttls)
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" -6 --server "$SRV6" --port 25 --tls --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (IPv6)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_tls "$P/$n.pcap" 0x0304
    expect_frame "$P/$n.pcap" "ipv6.src == $CLI6 && tcp.dstport == 25" ;;
  pipelining-multi)
    # clean traffic: the server offers no STARTTLS, so nothing is offered-but-unused
    scenario_begin "$n" "smtpd_tls_security_level = none"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    py_cli "$n" pipeline "$SRV4" 25
    scenario_end
    [[ $(grep -c "^S: 250 2.0.0 Ok: queued" "$WORK/logs/$n.client") -eq 3 ]] || die "$n: expected 3 queued messages"
    expect_stream "$P/$n.pcap" "STARTTLS" absent ;;
  bdat)
    scenario_begin "$n" "smtpd_tls_security_level = none"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    py_cli "$n" bdat "$SRV4" 25
    scenario_end
    expect_stream "$P/$n.pcap" "^BDAT [0-9]+ LAST"; expect_stream "$P/$n.pcap" "STARTTLS" absent ;;
  requiretls-in-clear)
    scenario_begin "$n" "smtpd_tls_security_level = none"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    py_cli "$n" requiretls "$SRV4" 25
    scenario_end
    grep -q "^S: 555 " "$WORK/logs/$n.client" || die "$n: expected 555 to MAIL FROM ... REQUIRETLS"
    expect_stream "$P/$n.pcap" "^MAIL FROM:<bob@example.org> REQUIRETLS"
    expect_stream "$P/$n.pcap" "^250 2.0.0 Ok: queued"; expect_stream "$P/$n.pcap" "STARTTLS" absent ;;
  ehlo-refused-helo)
    scenario_begin "$n"
    proxy_start refuse-ehlo
    cap_start "$NS_CLI" cli0 "$P/$n.client-side.pcap"
    cap_start "$NS_SRV" srv0 "$P/$n.server-side.pcap"
    py_cli "$n" ehlo-refused "$RTRC4" 25
    scenario_end; proxy_stop
    grep -q "^S: 502 5.5.2" "$WORK/logs/$n.client" || die "$n: expected 502 to EHLO"
    expect_stream "$P/$n.client-side.pcap" "^502 5.5.2 Error: command not recognized"
    expect_stream "$P/$n.client-side.pcap" "^HELO client"
    expect_stream "$P/$n.server-side.pcap" "^EHLO" absent
    expect_stream "$P/$n.server-side.pcap" "^250 2.0.0 Ok: queued" ;;
  ehlo-then-helo)
    scenario_begin "$n" "smtpd_tls_security_level = none"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 \
      --body "Hello from tlsobs fixture $n (session 1, EHLO)." && rc=0 || rc=$?
    expect_ok "$n" $rc
    sleep 0.5
    swaks_cli "$n" --server "$SRV4" --port 25 --protocol SMTP \
      --body "Hello from tlsobs fixture $n (session 2, HELO)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_stream "$P/$n.pcap" "^EHLO $HELO"; expect_stream "$P/$n.pcap" "^HELO $HELO"
    [[ $(tshark -r "$P/$n.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l) -eq 2 ]] ||
      die "$n: expected 2 sessions" ;;
  fake-220)
    scenario_begin "$n"
    proxy_start fake-220
    cap_start "$NS_CLI" cli0 "$P/$n.client-side.pcap"
    swaks_cli "$n" --server "$RTRC4" --port 25 --tls --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (never sent)." && rc=0 || rc=$?
    scenario_end; proxy_stop
    info "client exit $rc (failure expected)"
    [[ $rc -ne 0 ]] || die "$n: client unexpectedly succeeded"
    expect_stream "$P/$n.client-side.pcap" "^220 2.0.0 Ready to start TLS"
    expect_frame "$P/$n.client-side.pcap" 'tls.handshake.type==1'
    expect_frame "$P/$n.client-side.pcap" 'tcp.payload contains "554 5.7.0 TLS not available\r\n"' ;;
  tls-version-mismatch)
    scenario_begin "$n" "smtpd_tls_protocols = >=TLSv1.3" "smtpd_tls_mandatory_protocols = >=TLSv1.3"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --tls --tls-protocol tlsv1_2 --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (first attempt, TLS 1.2 only)." && rc=0 || rc=$?
    info "attempt 1 (TLS 1.2 against a TLS 1.3-only server) exit $rc (failure expected); retrying in clear"
    [[ $rc -ne 0 ]] || die "$n: TLS 1.2 handshake unexpectedly succeeded"
    sleep 0.5
    swaks_cli "$n" --server "$SRV4" --port 25 \
      --body "Hello from tlsobs fixture $n (second attempt, in clear)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_frame "$P/$n.pcap" 'tls.alert_message.desc == 70'
    expect_stream "$P/$n.pcap" "^250 2.0.0 Ok: queued" ;;
  stripped-then-clean)
    scenario_begin "$n"
    proxy_start pass
    cap_start "$NS_CLI" cli0 "$P/$n.client-side.pcap"
    swaks_cli "$n" --server "$RTRC4" --port 25 --tls --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (session 1, STARTTLS through a pass-through proxy)." && rc=0 || rc=$?
    proxy_stop; expect_ok "$n" $rc
    proxy_start remove
    sleep 0.5
    swaks_cli "$n" --server "$RTRC4" --port 25 --tls-optional --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (session 2, STARTTLS stripped)." && rc=0 || rc=$?
    scenario_end; proxy_stop; expect_ok "$n" $rc
    local C=$P/$n.client-side.pcap
    expect_tls "$C" 0x0304; expect_stream "$C" "^250-STARTTLS"; expect_stream "$C" "^250 2.0.0 Ok: queued"
    [[ $(tshark -r "$C" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l) -eq 2 ]] ||
      die "$n: expected 2 sessions" ;;
  tls10-rsa|tls11|ecdsa-cert|expired-cert|self-signed-cert|wrong-name-cert|tls12-resumed|tls13-hrr|tls-alert-bad-cert)
    tls_scenario "$n" ;;
  auth-cleartext)
    scenario_begin "$n" "smtpd_tls_auth_only = no"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 587 --from "$SASL_USER" \
      --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
      --body "Hello from tlsobs fixture $n (AUTH in clear!)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_stream "$P/$n.pcap" "^AUTH PLAIN "; expect_stream "$P/$n.pcap" "^235 "
    expect_stream "$P/$n.pcap" "^STARTTLS" absent ;;
  client-ignores-starttls)
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --body "Hello from tlsobs fixture $n (STARTTLS offered, not used)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_stream "$P/$n.pcap" "^250-STARTTLS"; expect_stream "$P/$n.pcap" "^STARTTLS" absent ;;
  mitm-*)
    local mode=${n#mitm-} tlsopt=(--tls-optional)
    case $mode in inject-command|inject-response) tlsopt=(--tls) ;; esac
    scenario_begin "$n"
    proxy_start "$mode"
    cap_start "$NS_CLI" cli0 "$P/$n.client-side.pcap"
    cap_start "$NS_SRV" srv0 "$P/$n.server-side.pcap"
    swaks_cli "$n" --server "$RTRC4" --port 25 "${tlsopt[@]}" --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (through a man in the middle)." && rc=0 || rc=$?
    scenario_end; proxy_stop
    info "client exit $rc; proxy: $(grep -v 'listening\|closed\|client (' "$WORK/logs/proxy-$mode.log" | sed 's/^.*smtp-mitm-proxy //' | tr '\n' ';')"
    local C=$P/$n.client-side.pcap S=$P/$n.server-side.pcap
    case $mode in
      mask)    expect_stream "$C" "^250-XXXXXXXA"; expect_stream "$S" "^250-STARTTLS"; expect_stream "$S" "^250 2.0.0 Ok: queued" ;;
      remove)  expect_stream "$C" "^250.STARTTLS" absent; expect_stream "$S" "^250-STARTTLS"; expect_stream "$S" "^250 2.0.0 Ok: queued" ;;
      rewrite-command) expect_stream "$C" "^STARTTLS"; expect_stream "$S" "^XXXXXXXX"; expect_stream "$S" "^50[02] " ;;
      refuse)  expect_stream "$C" "^454 4.7.0 TLS not available"; expect_stream "$S" "^STARTTLS" absent ;;
      inject-command)  expect_frame "$S" 'tcp.payload contains "STARTTLS\r\nRSET\r\n"'; expect_tls "$S" 0x0304 ;;
      inject-response) expect_frame "$C" 'tcp.payload contains "Ready to start TLS\r\n250 injected\r\n"' ;;
    esac ;;
  tls-blocked-then-plain)
    scenario_begin "$n"
    proxy_start kill-handshake
    cap_start "$NS_CLI" cli0 "$P/$n.client-side.pcap"
    cap_start "$NS_SRV" srv0 "$P/$n.server-side.pcap"
    swaks_cli "$n" --server "$RTRC4" --port 25 --tls --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (first attempt, TLS)." && rc=0 || rc=$?
    info "attempt 1 (TLS) exit $rc (failure expected); retrying in clear"
    sleep 0.5
    swaks_cli "$n" --server "$RTRC4" --port 25 \
      --body "Hello from tlsobs fixture $n (second attempt, in clear after TLS failed)." && rc=0 || rc=$?
    scenario_end; proxy_stop; expect_ok "$n" $rc
    expect_frame "$P/$n.client-side.pcap" "tcp.flags.reset==1"; expect_frame "$P/$n.server-side.pcap" "tcp.flags.reset==1"
    expect_stream "$P/$n.server-side.pcap" "^250 2.0.0 Ok: queued" ;;
  large-1mb-plain)
    "$PY" - "$WORK/large-body.txt" <<'EOF'
import hashlib, base64, sys
# deterministic ~1 MB body: base64 of a SHA-256 stream, 76 chars per line
out, h, i = [], b"tlsobs", 0
while sum(len(l) + 2 for l in out) < 1_040_000:
    blk = b""
    for _ in range(12):
        h = hashlib.sha256(h + str(i).encode()).digest(); i += 1; blk += h
    out.append(base64.b64encode(blk)[:76].decode())
open(sys.argv[1], "w").write("\r\n".join(out) + "\r\n")
EOF
    scenario_begin "$n" "smtpd_tls_security_level = none"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --body "@$WORK/large-body.txt" && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_stream "$P/$n.pcap" "STARTTLS" absent
    [[ $(stat -c %s "$P/$n.pcap") -lt 1572864 ]] || die "$n: capture larger than 1.5 MB" ;;
  netem-reorder)
    if ! in_cli tc qdisc add dev cli0 root netem delay 5ms 10ms reorder 25% 50% duplicate 3% loss 2% 2>"$WORK/logs/netem.err"; then
      log "SKIP $n: netem qdisc unavailable in this kernel ($(cat "$WORK/logs/netem.err"))"
      SKIPPED+=("$n: sch_netem not available in this kernel")
      return 0
    fi
    "$PY" - "$WORK/netem-body.txt" <<'EOF'
import hashlib, base64, sys
out, h = [], b"netem"
while sum(len(l) + 2 for l in out) < 200_000:
    h = hashlib.sha256(h).digest(); out.append(base64.b64encode(h * 2)[:76].decode())
open(sys.argv[1], "w").write("\r\n".join(out) + "\r\n")
EOF
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --tls --tls-sni "$MX" --body "Hello from $n (TLS part)." && rc=0 || rc=$?
    [[ $rc -eq 0 ]] && { swaks_cli "$n" --server "$SRV4" --port 25 --body "@$WORK/netem-body.txt" && rc=0 || rc=$?; }
    scenario_end
    in_cli tc qdisc del dev cli0 root || true
    expect_ok "$n" $rc ;;
  starttls-refused-454)
    # key file that does not exist: smtpd still advertises STARTTLS but cannot start TLS
    scenario_begin "$n" "smtpd_tls_key_file = $PF/tls/missing.key"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 25 --tls-optional --tls-sni "$MX" \
      --body "Hello from tlsobs fixture $n (STARTTLS refused, sent in clear)." && rc=0 || rc=$?
    scenario_end; expect_ok "$n" $rc
    expect_stream "$P/$n.pcap" "^250-STARTTLS"; expect_stream "$P/$n.pcap" "^454 4.7.0 TLS not available" ;;
  nonstd-port-2525-starttls|nonstd-port-10025-plain)
    # smtpd on an extra port, for these two only: the other scenarios keep their three services
    local port=${n#nonstd-port-}; port=${port%%-*}
    local tls=(--tls --tls-sni "$MX") overrides=()
    [[ $n == *-plain ]] && tls=() overrides=("smtpd_tls_security_level = none")
    postconf -c "$PF" -M "$port/inet=$port inet n - n - - smtpd"
    scenario_begin "$n" "${overrides[@]}"
    pf_wait_port "$port"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port "$port" "${tls[@]}" \
      --body "Hello from tlsobs fixture $n (SMTP on port $port)." && rc=0 || rc=$?
    scenario_end
    postconf -c "$PF" -MX "$port/inet"
    expect_ok "$n" $rc
    expect_frame "$P/$n.pcap" "tcp.dstport == $port && tcp.flags.syn == 1"
    if [[ $n == *-plain ]]; then
      expect_stream "$P/$n.pcap" "STARTTLS" absent; expect_stream "$P/$n.pcap" "^250 2.0.0 Ok: queued"
    else
      expect_stream "$P/$n.pcap" "^250-STARTTLS"; expect_stream "$P/$n.pcap" "^220 2.0.0 Ready to start TLS"
      expect_tls_port "$P/$n.pcap" "$port" 0x0304
    fi ;;
  non-mail)
    non_mail_scenario "$n" ;;
  implicit-tls-587)
    # the submission service in wrapper mode, for this one only
    postconf -c "$PF" -P "submission/inet/smtpd_tls_wrappermode=yes"
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    swaks_cli "$n" --server "$SRV4" --port 587 --tls-on-connect --tls-sni "$MX" --from "$SASL_USER" \
      --auth PLAIN --auth-user "$SASL_USER" --auth-password "$SASL_PASS" \
      --body "Hello from tlsobs fixture $n (implicit TLS on 587)." && rc=0 || rc=$?
    scenario_end
    postconf -c "$PF" -PX "submission/inet/smtpd_tls_wrappermode"
    expect_ok "$n" $rc
    grep -q "^<~  235" "$WORK/logs/$n.swaks" || die "$n: AUTH did not succeed"
    [[ $(tshark -r "$P/$n.pcap" -d tcp.port==587,tls -Y 'tls.handshake.type==2' -T fields \
        -e tls.handshake.extensions.supported_version 2>/dev/null | head -1) == 0x0304 ]] ||
      die "$n: no TLS 1.3 ServerHello on 587"
    expect_stream "$P/$n.pcap" "ESMTP" absent ;;
  cleartext-on-465)
    # the smtps service without wrapper mode, for this one only: it greets in clear text
    postconf -c "$PF" -P "smtps/inet/smtpd_tls_wrappermode=no"
    scenario_begin "$n"
    cap_start "$NS_SRV" srv0 "$P/$n.pcap"
    local clog=$WORK/logs/$n.s_client
    info "openssl s_client -connect $SRV4:465 -servername $MX"
    set +e
    (sleep 2; echo Q 2>/dev/null) | in_cli timeout 20 openssl s_client -connect "$SRV4:465" -servername "$MX" \
      >"$clog" 2>&1
    rc=$?
    set -e
    echo "### s_client exit $rc" >>"$clog"
    sleep 0.5
    local rc2
    swaks_cli "$n" --server "$SRV4" --port 465 \
      --body "Hello from tlsobs fixture $n (clear text on 465)." && rc2=0 || rc2=$?
    scenario_end
    postconf -c "$PF" -P "smtps/inet/smtpd_tls_wrappermode=yes"
    [[ $rc -ne 0 ]] || die "$n: s_client unexpectedly succeeded"
    expect_ok "$n" $rc2
    expect_frame "$P/$n.pcap" 'tcp.dstport == 465 && tcp.payload[0:1] == 16'
    expect_stream "$P/$n.pcap" "^220 $MX ESMTP"
    expect_stream "$P/$n.pcap" "^250-STARTTLS"; expect_stream "$P/$n.pcap" "^250 2.0.0 Ok: queued" ;;
  *) die "internal: no such scenario $n" ;;
  esac
}

# ---------------------------------------------------------------- openssl s_server / s_client
# tls_scenario NAME: implicit TLS on port 465 between openssl s_server (server namespace; Postfix is
# not running) and openssl s_client (client namespace). No SMTP inside: the handshake is the point.
tls_scenario() {
  local n=$1 cert=mx1 chain=1 naccept=1 sargs=() cargs=() rc
  local seclvl0=(-cipher 'DEFAULT:@SECLEVEL=0')
  case $n in
    tls10-rsa)          sargs=(-tls1 "${seclvl0[@]}");   cargs=(-tls1 "${seclvl0[@]}") ;;
    tls11)              sargs=(-tls1_1 "${seclvl0[@]}"); cargs=(-tls1_1 "${seclvl0[@]}") ;;
    ecdsa-cert)         cert=ecdsa;       sargs=(-tls1_2); cargs=(-tls1_2) ;;
    expired-cert)       cert=expired;     sargs=(-tls1_2); cargs=(-tls1_2) ;;
    self-signed-cert)   cert=self-signed; chain=0; sargs=(-tls1_2); cargs=(-tls1_2) ;;
    wrong-name-cert)    cert=wrong-name;  sargs=(-tls1_2); cargs=(-tls1_2) ;;
    tls12-resumed)      naccept=2; sargs=(-tls1_2 -no_ticket); cargs=(-tls1_2 -no_ticket) ;;
    tls13-hrr)          sargs=(-tls1_3 -groups P-256); cargs=(-tls1_3 -groups X25519:P-256) ;;
    tls-alert-bad-cert) cert=self-signed; chain=0; sargs=(-tls1_2); cargs=(-tls1_2 -verify_return_error) ;;
  esac
  [[ $chain == 1 ]] && sargs+=(-cert_chain "$KEYDIR/ca.crt")
  log "scenario $n"
  cap_start "$NS_SRV" srv0 "$P/$n.pcap"
  local slog=$WORK/logs/$n.s_server clog=$WORK/logs/$n.s_client
  info "openssl s_server -accept $SRV4:465 -naccept $naccept -cert $cert.crt ${sargs[*]}"
  # -rev: no stdin needed; -naccept: exits after the last connection; timeout as a backstop
  ip netns exec "$NS_SRV" timeout 30 openssl s_server -accept "$SRV4:465" -naccept "$naccept" -rev \
    -cert "$KEYDIR/$cert.crt" -key "$KEYDIR/$cert.key" "${sargs[@]}" </dev/null >"$slog" 2>&1 &
  local spid=$!
  BG_PIDS+=("$spid")
  local i
  for i in $(seq 50); do
    [[ -n $(in_srv ss -Hltn "sport = :465") ]] && break
    kill -0 "$spid" 2>/dev/null || { cat "$slog" >&2; die "$n: s_server exited"; }
    sleep 0.1
  done
  local base=(-connect "$SRV4:465" -servername "$MX" -CAfile "$KEYDIR/ca.crt" -verify_hostname "$MX")
  local sess=$WORK/$n.sess
  ossl_cli() { # extra args; stdin: 'Q' after a second (lets TLS 1.3 tickets arrive before the close)
    info "openssl s_client ${cargs[*]} $*"
    set +e
    (sleep 1; echo Q 2>/dev/null) | in_cli timeout 20 openssl s_client "${base[@]}" "${cargs[@]}" "$@" >>"$clog" 2>&1
    local r=${PIPESTATUS[1]}
    set -e
    echo "### s_client exit $r" >>"$clog"
    return $r
  }
  if [[ $n == tls12-resumed ]]; then
    ossl_cli -sess_out "$sess" && rc=0 || rc=$?
    [[ $rc -eq 0 ]] || { cat "$clog" >&2; die "$n: first s_client failed"; }
    sleep 0.5
    ossl_cli -sess_in "$sess" && rc=0 || rc=$?
  else
    ossl_cli && rc=0 || rc=$?
  fi
  for i in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  cap_stop_all
  local f=$P/$n.pcap
  if [[ $n == tls-alert-bad-cert ]]; then
    [[ $rc -ne 0 ]] || die "$n: s_client unexpectedly succeeded"
    expect_frame "$f" 'tls.alert_message.level == 2 && tls.alert_message.desc == 48 && ip.src == '"$CLI4"
  else
    [[ $rc -eq 0 ]] || { tail -30 "$clog" >&2; cat "$slog" >&2; die "$n: s_client failed (exit $rc)"; }
  fi
  case $n in
    tls10-rsa) expect_tls "$f" 0x0301 ;;
    tls11)     expect_tls "$f" 0x0302 ;;
    tls13-hrr) expect_tls "$f" 0x0304
               [[ $(tshark -r "$f" -Y 'tls.handshake.type==2' 2>/dev/null | wc -l) -eq 2 ]] || die "$n: expected HRR + ServerHello"
               [[ $(tshark -r "$f" -Y 'tls.handshake.type==1' 2>/dev/null | wc -l) -eq 2 ]] || die "$n: expected 2 ClientHellos" ;;
    tls12-resumed) expect_tls "$f" 0x0303
               grep -q "^Reused, TLSv1.2" "$clog" || die "$n: second session not resumed"
               [[ $(tshark -r "$f" -Y 'tls.handshake.type==11' 2>/dev/null | wc -l) -eq 1 ]] || die "$n: expected one Certificate message" ;;
    *)         expect_tls "$f" 0x0303; expect_frame "$f" 'tls.handshake.type==11' ;;
  esac
  grep -E "Verify return code|^Protocol *:|^ *Cipher *:|verify error" "$clog" | sort | uniq -c | sed 's/^/    s_client: /' >&2 || true
}

# ---------------------------------------------------------------- non-mail traffic
# non_mail_scenario NAME: Postfix is not running; three flows on non-mail ports, none of them SMTP:
# HTTP (python3 -m http.server, curl), TLS (openssl s_server -WWW, s_client sending a GET), DNS over TCP
# (a small python server and client below). For the nDPI classifier's "other" verdict.
non_mail_scenario() {
  local n=$1 www=$WORK/www slog=$WORK/logs/$1.servers clog=$WORK/logs/$1.clients pids=() i
  log "scenario $n"
  mkdir -p "$www"
  printf '<html><body>tlsobs fixture %s</body></html>\n' "$n" >"$www/index.html"
  write_dns_tool
  ( cd "$www" && exec ip netns exec "$NS_SRV" timeout 60 "$PY" -m http.server 8080 --bind "$SRV4" ) >>"$slog" 2>&1 &
  pids+=($!)
  ( cd "$www" && exec ip netns exec "$NS_SRV" timeout 60 openssl s_server -accept "$SRV4:8443" -naccept 1 -WWW \
      -cert "$KEYDIR/mx1.crt" -key "$KEYDIR/mx1.key" -cert_chain "$KEYDIR/ca.crt" </dev/null ) >>"$slog" 2>&1 &
  pids+=($!)
  ip netns exec "$NS_SRV" timeout 60 "$PY" "$WORK/dnstool.py" serve "$SRV4" >>"$slog" 2>&1 &
  pids+=($!)
  BG_PIDS+=("${pids[@]}")
  for i in $(seq 50); do
    [[ $(in_srv ss -Hltn | grep -cE ":(8080|8443|53)\b") -ge 3 ]] && break
    sleep 0.1
  done
  [[ $(in_srv ss -Hltn | grep -cE ":(8080|8443|53)\b") -ge 3 ]] || { cat "$slog" >&2; die "$n: servers not listening"; }
  cap_start "$NS_SRV" srv0 "$P/$n.pcap"
  in_cli curl -sS --max-time 10 -o /dev/null -w 'curl: HTTP %{http_code}\n' "http://$SRV4:8080/index.html" >>"$clog" 2>&1 ||
    { cat "$clog" "$slog" >&2; die "$n: curl failed"; }
  sleep 0.3
  printf 'GET /index.html HTTP/1.0\r\nHost: www.example.net\r\n\r\n' |
    in_cli timeout 10 openssl s_client -connect "$SRV4:8443" -servername www.example.net -CAfile "$KEYDIR/ca.crt" \
      -quiet -ign_eof >>"$clog" 2>&1 || { cat "$clog" "$slog" >&2; die "$n: s_client failed"; }
  sleep 0.3
  in_cli "$PY" "$WORK/dnstool.py" query "$SRV4" www.example.net >>"$clog" 2>&1 || { cat "$clog" "$slog" >&2; die "$n: DNS query failed"; }
  cap_stop_all
  for i in "${pids[@]}"; do kill "$i" 2>/dev/null || true; wait "$i" 2>/dev/null || true; done
  local f=$P/$n.pcap
  grep -q "^curl: HTTP 200" "$clog" || die "$n: no HTTP 200"
  grep -q "tlsobs fixture $n" "$clog" || die "$n: no page over TLS"
  grep -q "^dns: www.example.net A 192.0.2.80" "$clog" || die "$n: no DNS answer"
  expect_frame "$f" 'http.request.method == "GET" && tcp.dstport == 8080'
  expect_tls_port "$f" 8443 0x0304
  expect_frame "$f" 'dns.flags.response == 1 && tcp.srcport == 53 && dns.a == 192.0.2.80'
  [[ -z $(tshark -r "$f" -Y smtp 2>/dev/null | head -1) ]] || die "$n: contains SMTP"
  [[ $(tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l) -eq 3 ]] || die "$n: expected 3 flows"
}

# dnstool.py serve ADDR | query ADDR NAME: DNS over TCP (RFC 1035 4.2.2, RFC 7766), one A record
# (192.0.2.80) for any name; the server answers one connection and exits.
write_dns_tool() {
  cat >"$WORK/dnstool.py" <<'EOF'
#!/usr/bin/env python3
import socket, struct, sys

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            sys.exit("connection closed")
        b += chunk
    return b

def recv_msg(s):
    return recv_exact(s, struct.unpack("!H", recv_exact(s, 2))[0])

def send_msg(s, m):
    s.sendall(struct.pack("!H", len(m)) + m)

def qname(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"

if sys.argv[1] == "serve":
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[2], 53)); ls.listen(1)
    c, _ = ls.accept()
    q = recv_msg(c)
    qid, end = q[:2], 12
    while q[end] != 0:
        end += 1 + q[end]
    question = q[12:end + 5]
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton("192.0.2.80")
    send_msg(c, qid + struct.pack("!HHHHH", 0x8580, 1, 1, 0, 0) + question + answer)
    c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
else:
    host, name = sys.argv[2], sys.argv[3]
    s = socket.create_connection((host, 53), timeout=10)
    send_msg(s, struct.pack("!HHHHHH", 0x7f1c, 0x0100, 1, 0, 0, 0) + qname(name) + struct.pack("!HH", 1, 1))
    r = recv_msg(s)
    assert r[:2] == b"\x7f\x1c" and struct.unpack("!H", r[6:8])[0] == 1, "bad answer"
    print("dns: %s A %s" % (name, socket.inet_ntoa(r[-4:])))
    s.close()
EOF
}

# ---------------------------------------------------------------- verification / outputs
# expect_tls FILE VERSION(0x0303|0x0304): the ServerHello negotiated this version
expect_tls() {
  local got; got=$(tshark -r "$1" -Y 'tls.handshake.type==2' -T fields \
      -e tls.handshake.extensions.supported_version -e tls.handshake.version 2>/dev/null | head -1 | awk '{print $1}')
  [[ $got == "$2" ]] || die "$(basename "$1"): expected TLS version $2 in ServerHello, got '${got:-none}'"
}
# expect_tls_port FILE PORT VERSION: as expect_tls, for TLS on a port tshark does not know: the port is
# decoded as SMTP (STARTTLS is followed from there) or, for 8443, as TLS
expect_tls_port() {
  local as=smtp got
  [[ $2 == 8443 ]] && as=tls
  got=$(tshark -r "$1" -d "tcp.port==$2,$as" -Y 'tls.handshake.type==2' -T fields \
      -e tls.handshake.extensions.supported_version -e tls.handshake.version 2>/dev/null | head -1 | awk '{print $1}')
  [[ $got == "$3" ]] || die "$(basename "$1"): expected TLS version $3 in ServerHello on port $2, got '${got:-none}'"
}
# expect_frame FILE DISPLAY-FILTER: at least one packet matches
expect_frame() {
  [[ -n $(tshark -r "$1" -Y "$2" 2>/dev/null | head -1) ]] || die "$(basename "$1"): no packet matches '$2'"
}
# expect_stream FILE REGEX [absent]: the reassembled cleartext of the capture matches (or not) REGEX
expect_stream() {
  local n streams text=""
  streams=$(tshark -r "$1" -T fields -e tcp.stream 2>/dev/null | sort -un)
  for n in $streams; do text+=$(tshark -r "$1" -q -z "follow,tcp,ascii,$n" 2>/dev/null); done
  if [[ ${3:-} == absent ]]; then
    ! grep -qE "$2" <<<"$text" || die "$(basename "$1"): unexpectedly contains /$2/"
  else
    grep -qE "$2" <<<"$text" || die "$(basename "$1"): does not contain /$2/"
  fi
}

verify_pcap() { # file -> prints one summary line
  local f=$1 b; b=$(basename "$f")
  local pkts; pkts=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
  [[ $pkts -gt 0 ]] || die "$b: no packets"
  local streams; streams=$(tshark -r "$f" -T fields -e tcp.stream 2>/dev/null | sort -un | wc -l)
  local first; first=$(tshark -r "$f" -q -z follow,tcp,ascii,0 2>/dev/null | grep -m1 -E '^[0-9]{3}[ -]' || true)
  local tls; tls=$(tshark -r "$f" -Y 'tls.handshake.type==2' -T fields -e tls.handshake.version \
    -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite 2>/dev/null | head -1 | tr '\t' ' ')
  printf '%-42s %8s bytes %5s pkts %2s tcp-streams  first: %-30.30s %s\n' "$b" "$(stat -c %s "$f")" \
    "$pkts" "$streams" "$first" "${tls:+ServerHello: $tls}"
}

write_manifest_and_readme() {
  log "writing $OUT/MANIFEST and README.md"
  (cd "$OUT" && sha256sum -- *.pcap >MANIFEST)
  {
    echo "# tlsobs test fixtures"
    echo
    echo "Packet captures of SMTP sessions between **real mail software**, made by"
    echo "\`scripts/make-fixtures.sh\` (do not edit by hand; re-run the script instead)."
    echo
    echo "* Server: Postfix $(postconf -dh mail_version) (private instance, \`postfix -c\`), OpenSSL $(openssl version | awk '{print $2}'),"
    echo "  hostname \`$MX\`, domain \`$DOMAIN\`, $SRV4 / $SRV6."
    echo "  Ports 25 (smtpd), 587 (submission, Cyrus SASL sasldb, user \`$SASL_USER\` password \`$SASL_PASS\`), 465 (smtps, wrapper mode)."
    echo "* Client: swaks $(swaks --version 2>/dev/null | awk '/swaks version/{print $3; exit}') at $CLI4 / $CLI6, EHLO \`$HELO\`;"
    echo "  a small python socket client for \`pipelining-multi\`, \`bdat\`, \`requiretls-in-clear\` and \`ehlo-refused-helo\` (embedded in the script)."
    echo "* Port-465 TLS variety (\`tls10-rsa\`, \`tls11\`, \`*-cert\`, \`tls12-resumed\`, \`tls13-hrr\`, \`tls-alert-bad-cert\`):"
    echo "  \`openssl s_server -rev\` in the server namespace (Postfix stopped) and \`openssl s_client\` in the client namespace,"
    echo "  implicit TLS, handshake only (no SMTP inside)."
    echo "* For the nDPI classifier: SMTP on extra smtpd ports (\`nonstd-port-*\`), and \`non-mail\` (HTTP, TLS and DNS over TCP,"
    echo "  Postfix stopped; python3 http.server, openssl s_server -WWW, a small python DNS-over-TCP server embedded in the script)."
    echo "* MITM scenarios: \`scripts/smtp-mitm-proxy.py\` in a router namespace at $RTRC4 (client-facing)"
    echo "  / $RTRS4 (server-facing). \`*.client-side.pcap\` = client <-> proxy link, \`*.server-side.pcap\` = proxy <-> server link."
    echo "* Captures: \`tcpdump -s 0 -U -w\` filter \`tcp\`, on the server's veth (\`srv0\`) or the client's (\`cli0\`);"
    echo "  offloads disabled, so segments are MTU-sized (1500) and checksums are valid, like on a span port."
    echo "* TLS certificates (public parts only) in \`certs/\`: \`ca.crt\` (CN=tlsobs Fixture CA) and"
    echo "  \`mx1.example.net.crt\` (CN/SAN $MX); for the s_server scenarios \`ecdsa.crt\` (P-256, fixture CA), \`expired.crt\`"
    echo "  (fixture CA, 2020-01-01..2021-01-01), \`self-signed.crt\` (CN/SAN $MX) and \`wrong-name.crt\` (fixture CA, wrong.example.com)."
    echo "  Private keys are not committed."
    echo "* \`MANIFEST\`: sha256 of every pcap (\`cd tests/fixtures && sha256sum -c MANIFEST\`)."
    echo
    echo "| file | content |"
    echo "|---|---|"
    local f b key
    for f in "$OUT"/*.pcap; do
      b=$(basename "$f" .pcap)
      echo "| \`$b.pcap\` | ${DESC[$b]:-(no description)} |"
    done
    echo
    if [[ -n ${SKIP_NOTES:-} ]]; then
      echo "Not produced on the machine that generated this set:"
      echo
      printf '%s\n' "$SKIP_NOTES"
      echo
    fi
    echo "Regenerate (root, Debian 12; uses only private network namespaces and documentation addresses):"
    echo
    echo '```'
    echo "sudo scripts/make-fixtures.sh            # everything"
    echo "sudo scripts/make-fixtures.sh bdat smtps-465   # a subset (--list for names)"
    echo '```'
    echo
    echo "Timestamps, TCP sequence numbers, TLS randoms/keys and Postfix queue IDs differ on every run."
  } >"$OUT/README.md"
}

make_demo() {
  local parts=(smtp-plain starttls-tls13 mitm-mask.client-side smtps-465) files=() p
  for p in "${parts[@]}"; do
    [[ -f $OUT/$p.pcap ]] || { info "demo.pcap not rebuilt: $p.pcap missing"; return 0; }
    files+=("$OUT/$p.pcap")
  done
  # chronological merge: the scenarios never overlap in time, so this is a concatenation
  # with monotonic timestamps
  log "demo.pcap = mergecap ${parts[*]}"
  mergecap -F pcap -w "$OUT/demo.pcap" "${files[@]}"
}

# starttls-cut-after-220: the STARTTLS capture as a capture that ends right after the 220 (no TLS byte, no FIN)
make_cut_after_220() {
  local src=$OUT/starttls-tls13.pcap dst=$OUT/starttls-cut-after-220.pcap last
  [[ -f $src ]] || { info "starttls-cut-after-220.pcap not rebuilt: starttls-tls13.pcap missing"; return 0; }
  last=$(tshark -r "$src" -Y 'tcp.payload contains "Ready to start TLS"' -T fields -e frame.number 2>/dev/null | head -1)
  [[ -n $last ]] || die "starttls-tls13.pcap: no 220 to STARTTLS"
  log "starttls-cut-after-220.pcap = editcap -r starttls-tls13.pcap 1-$last"
  editcap -F pcap -r "$src" "$dst" "1-$last"
  expect_stream "$dst" "^220 2.0.0 Ready to start TLS"
  [[ -z $(tshark -r "$dst" -Y 'tls || tcp.flags.fin == 1 || tcp.flags.reset == 1' 2>/dev/null | head -1) ]] ||
    die "starttls-cut-after-220.pcap: TLS, FIN or RST after the cut"
}

# ---------------------------------------------------------------- main
ensure_packages
[[ -x $PROXY || -f $PROXY ]] || die "missing $PROXY"
WORK=$(mktemp -d /tmp/tlsobs-fixtures.XXXXXX)
chmod 755 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/logs" "$WORK/pcap" "$OUT"
P=$WORK/pcap
SKIPPED=()
log "work dir $WORK, output $OUT"

make_certs
netns_setup
pf_setup
write_pyclient

for s in "${SCENARIOS[@]}"; do
  run_scenario "$s"
done

log "checking captures and installing them into $OUT"
shopt -s nullglob
produced=("$P"/*.pcap)
[[ ${#produced[@]} -gt 0 ]] || die "no captures produced"
for f in "${produced[@]}"; do
  cp "$f" "$OUT/"
done
make_demo
make_cut_after_220
SKIP_NOTES=""
for s in "${SKIPPED[@]}"; do SKIP_NOTES+="* $s"$'\n'; done
# keep notes about skipped scenarios from earlier full runs
if [[ -z $SKIP_NOTES && -f $OUT/README.md ]]; then
  SKIP_NOTES=$(sed -n '/^Not produced/,/^Regenerate/p' "$OUT/README.md" | grep '^\* ' || true)
fi
write_manifest_and_readme

log "summary"
for f in "${produced[@]}"; do verify_pcap "$OUT/$(basename "$f")"; done
[[ -f $OUT/demo.pcap ]] && verify_pcap "$OUT/demo.pcap"
for s in "${SKIPPED[@]}"; do echo "SKIPPED: $s"; done
log "done"

#!/usr/bin/env bash
# make-privacy-fixtures.sh - record tests/fixtures/privacy/*.pcap: real mail software exchanging
# AUTH credentials and messages IN CLEAR TEXT, with sentinel strings wherever a sensor must never
# report them (tests/integration/privacy.sh greps every output of tlsobs for them).
#
# Usage (as root, Debian 12):
#   scripts/make-privacy-fixtures.sh
#
# What it does:
#   * two private network namespaces joined by one veth pair (nothing leaves them, no default route):
#       tpv-cli  203.0.113.10  (dev cli0)   <->   tpv-srv  198.51.100.25  (dev srv0)
#   * a private Postfix instance (postfix -c DIR, own queue) in tpv-srv, Cyrus SASL with a private sasldb
#     (mech_list PLAIN LOGIN CRAM-MD5): port 25 with AUTH and no STARTTLS, port 587 (submission) with
#     AUTH and STARTTLS offered (smtpd_tls_auth_only = no, throwaway self-signed certificate; no client
#     uses it, so everything crosses in clear);
#   * clients in tpv-cli: swaks, and Python's smtplib (a short script embedded below) for what swaks
#     cannot do (AUTH LOGIN with an initial response, AUTH PLAIN without one, a refused AUTH, MAIL
#     AUTH=/RCPT ORCPT= parameters, BDAT);
#   * tcpdump on srv0 (filter tcp, offloads off: MTU-sized segments, valid checksums);
#   * checks each capture with tshark and tests/integration/privacy.py wire (every sentinel is on the
#     wire in its expected encoding), then writes the captures, sentinels.env, MANIFEST and README.md.
#
# Environment: KEEP_WORKDIR=1 keeps the work dir (Postfix log, client transcripts).
set -euo pipefail
export LC_ALL=C
umask 022

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/tests/fixtures/privacy
CHECK=$REPO/tests/integration/privacy.py
PY=/usr/bin/python3

NS_SRV=tpv-srv
NS_CLI=tpv-cli
SRV4=198.51.100.25
CLI4=203.0.113.10
DOMAIN=example.net
MX=mx1.example.net
HELO=client.example.org
FIXED_DATE="Thu, 01 Jan 2026 00:00:00 +0000"

# The sentinels. Distinct per place, so a hit names the place that leaked. Written to sentinels.env,
# which the test reads: change them here only, then re-run this script.
declare -A S=(
  [USER]=SENTINEL-USER-3f9a            # SASL user name (logs in as USER@REALM)
  [REALM]=$DOMAIN
  [PASS]=SENTINEL-PASS-8e21            # the right password
  [BADPASS]=SENTINEL-BADPASS-c4d0      # a wrong password (535), then the right one
  [SUBJECT]=SENTINEL-SUBJECT-4b1d      # Subject: header
  [HEADER]=SENTINEL-HEADER-2a6f        # X-Privacy-Note: header
  [BODY]=SENTINEL-BODY-9c2e            # a body line
  [BODYCMD]=SENTINEL-BODYCMD-5d3b      # body lines that look like SMTP commands (MAIL FROM, AUTH PLAIN, ...)
  [ATTACH]=SENTINEL-ATTACH-77aa        # inside a text/plain MIME attachment (base64 on the wire)
  [FILENAME]=SENTINEL-FILENAME-1e5b    # the attachment's file name (MIME header, plain on the wire)
  [BDAT]=SENTINEL-BDAT-6c19            # BDAT chunk data, cut in two by the chunk boundary
  [AUTHID]=SENTINEL-AUTHID-0b7e        # MAIL FROM:<...> AUTH=<AUTHID@example.net> (RFC 4954 section 5)
  [ORCPT]=SENTINEL-ORCPT-d2f4          # RCPT TO:<...> ORCPT=rfc822;ORCPT@example.net (RFC 3461)
  [MAIL_FROM_LOCAL]=sentinel-from-a1c3 # envelope local parts: reported only with smtp.keep_local_parts
  [RCPT_LOCAL]=sentinel-rcpt-e8b2
)

log()  { printf '==> %s\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die()  { printf 'make-privacy-fixtures: ERROR: %s\n' "$*" >&2; exit 1; }
in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0
fi
[[ $# -eq 0 ]] || die "no arguments (see --help)"
[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, postfix, tcpdump)"

ensure_packages() {
  local missing=() p
  for p in postfix swaks tcpdump openssl tshark iproute2 ethtool sasl2-bin libsasl2-modules python3; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing missing packages: ${missing[*]}"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# ---------------------------------------------------------------- cleanup
WORK="" PF="" PFV="" CAP_PID=""
cleanup() {
  local rc=$?
  set +e
  [[ -n $CAP_PID ]] && kill "$CAP_PID" 2>/dev/null
  pf_stop
  netns_teardown
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${KEEP_WORKDIR:-0} == 1 || $rc -ne 0 ]]; then info "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit $rc
}

netns_teardown() {
  local ns pid
  for ns in "$NS_CLI" "$NS_SRV"; do
    ip netns list | grep -qw "^$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    sleep 0.2
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

netns_setup() {
  log "network namespaces $NS_CLI ($CLI4) <-> $NS_SRV ($SRV4)"
  netns_teardown
  ip netns add "$NS_SRV"
  ip netns add "$NS_CLI"
  ip -n "$NS_SRV" link add srv0 address 02:00:00:00:05:25 type veth peer name cli0 netns "$NS_CLI" \
    address 02:00:00:00:05:10
  local pair
  for pair in "$NS_SRV:srv0:$SRV4:203.0.113.0/24" "$NS_CLI:cli0:$CLI4:198.51.100.0/24"; do
    IFS=: read -r ns dev addr peer <<<"$pair"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev "$dev"
    ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$ns" link set "$dev" up
    ip -n "$ns" route add "$peer" dev "$dev"   # on-link: no router, no default route
  done
}

# ---------------------------------------------------------------- postfix
pf_setup() {
  PF=$WORK/postfix/etc
  PFV=$WORK/postfix
  log "private Postfix $(postconf -dh mail_version) instance in $PFV"
  mkdir -p "$PF/tls" "$PF/sasl" "$PFV/spool" "$PFV/data" "$PFV/sasldb" "$PFV/log"
  chown postfix:postfix "$PFV/data" "$PFV/sasldb"
  # throwaway certificate: STARTTLS is only offered on 587, never used, so it is never on the wire
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -keyout "$PF/tls/key.pem" \
    -out "$PF/tls/cert.pem" -subj "/CN=$MX" 2>/dev/null
  chmod 600 "$PF/tls/key.pem"
  cat >"$PF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN CRAM-MD5
sasldb_path: $PFV/sasldb/sasldb2
EOF
  echo -n "${S[PASS]}" | saslpasswd2 -c -p -f "$PFV/sasldb/sasldb2" -u "${S[REALM]}" "${S[USER]}"
  chown postfix:postfix "$PFV/sasldb/sasldb2"; chmod 640 "$PFV/sasldb/sasldb2"
  sasldblistusers2 -f "$PFV/sasldb/sasldb2" | grep -q "^${S[USER]}@${S[REALM]}:" || die "saslpasswd2 failed"

  cat >"$PF/master.cf" <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp       inet  n       -       n       -       -       smtpd
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_security_level=none
submission inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_security_level=may
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
inet_interfaces = $SRV4
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP Postfix
biff = no
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:tlsobs privacy fixture
default_transport = discard:tlsobs privacy fixture
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
anvil_rate_time_unit = 60s
smtpd_client_connection_rate_limit = 0
smtpd_tls_cert_file = $PF/tls/cert.pem
smtpd_tls_key_file = $PF/tls/key.pem
smtpd_tls_auth_only = no
smtpd_tls_session_cache_database =
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PF/sasl
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
EOF
}

pf_start() {
  if ! in_srv postfix -c "$PF" start >"$PFV/log/start.log" 2>&1; then
    in_srv script -qec "postfix -c $PF check" /dev/null >&2 || true
    tail -20 "$PFV/log/maillog" >&2 || true
    die "postfix failed to start"
  fi
  local _
  for _ in $(seq 50); do
    [[ $(in_srv ss -Hltn | grep -cE ":(25|587)\b") -ge 2 ]] && return 0
    sleep 0.1
  done
  die "postfix is not listening on 25 and 587"
}

pf_stop() {
  [[ -n $PF && -f $PF/main.cf ]] || return 0
  local pidf=$PFV/spool/pid/master.pid pid=""
  [[ -f $pidf ]] && pid=$(tr -dc 0-9 <"$pidf")
  ip netns list | grep -qw "^$NS_SRV" && in_srv postfix -c "$PF" stop >/dev/null 2>&1 || true
  if [[ -n $pid ]]; then
    local _
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------- capture
cap_start() { # file
  local file=$1
  info "tcpdump on $NS_SRV/srv0 -> $(basename "$file")"
  ip netns exec "$NS_SRV" tcpdump -i srv0 -s 0 -U -n -Z root -w "$file" tcp >"$file.log" 2>&1 &
  CAP_PID=$!
  local _
  for _ in $(seq 50); do
    grep -q "listening on" "$file.log" 2>/dev/null && return 0
    kill -0 "$CAP_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$file.log" >&2; die "tcpdump did not start"
}
cap_stop() { # file
  sleep 1   # the last FIN/ACKs
  kill -INT "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
  grep -qE "^0 packets dropped by kernel" "$1.log" || info "WARNING: tcpdump reports drops"
  rm -f "$1.log"
  tshark -r "$1" -q >/dev/null 2>&1 || die "tshark cannot read $(basename "$1")"
}

# ---------------------------------------------------------------- message parts
write_parts() {
  # the body, shared by every client; lines that look like commands are content all the same
  local plain_blob; plain_blob=$(printf '\0%s\0%s' "${S[BODYCMD]}@$DOMAIN" "not-a-password" | base64 -w0)
  printf '%s\r\n' \
    "Hello, this message carries privacy sentinels for tlsobs." \
    "${S[BODY]} is a line of the body." \
    "These lines look like SMTP commands, but are message content:" \
    "MAIL FROM:<${S[BODYCMD]}@example.org>" \
    "AUTH PLAIN $plain_blob" \
    "STARTTLS" \
    "250-STARTTLS" \
    ".${S[BODYCMD]} a line with a leading dot (stuffed on the wire)" \
    "bye" >"$WORK/body.txt"
  printf '%s\r\n' "attachment text: ${S[ATTACH]}" "second line of the attachment" >"$WORK/attach.txt"
}

swaks_cli() { # name, then swaks args
  local name=$1; shift
  info "swaks $*"
  in_cli swaks --server "$SRV4" --helo "$HELO" \
    --from "${S[MAIL_FROM_LOCAL]}@example.org" --to "${S[RCPT_LOCAL]}@$DOMAIN" \
    --header "Subject: Quarterly ${S[SUBJECT]}" --header "X-Privacy-Note: ${S[HEADER]}" \
    --header "Date: $FIXED_DATE" --header "Message-Id: <$name@$HELO>" \
    --body "@$WORK/body.txt" \
    --attach-type text/plain --attach-name "${S[FILENAME]}.txt" --attach "@$WORK/attach.txt" \
    --auth-user "${S[USER]}@${S[REALM]}" --auth-password "${S[PASS]}" --timeout 30 "$@" \
    >>"$WORK/logs/$name.client" 2>&1 || { tail -30 "$WORK/logs/$name.client" >&2; die "$name: swaks failed"; }
}

write_pyclient() {
  cat >"$WORK/smtplib-client.py" <<'EOF'
#!/usr/bin/env python3
# smtplib client for the privacy fixtures: what swaks cannot do.
import smtplib, sys, time
from email.message import EmailMessage
from email.policy import SMTP

mode, host, port, envf = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
S = dict(l.strip().split("=", 1) for l in open(envf) if "=" in l)
DOMAIN = "example.net"
USER = S["USER"] + "@" + S["REALM"]
BODY = open(sys.argv[5]).read().replace("\r\n", "\n")
ATTACH = open(sys.argv[6]).read().replace("\r\n", "\n")

def message(name, extra_body=""):
    m = EmailMessage(policy=SMTP)
    m["From"] = "<%s@example.org>" % S["MAIL_FROM_LOCAL"]
    m["To"] = "<%s@%s>" % (S["RCPT_LOCAL"], DOMAIN)
    m["Subject"] = "Quarterly " + S["SUBJECT"]
    m["X-Privacy-Note"] = S["HEADER"]
    m["Date"] = "Thu, 01 Jan 2026 00:00:00 +0000"
    m["Message-Id"] = "<%s@client.example.org>" % name
    m.set_content(BODY + extra_body, cte="7bit")
    m.add_attachment(ATTACH, subtype="plain", cte="base64", filename=S["FILENAME"] + ".txt")
    return m.as_bytes()

def expect(reply, code, what):
    print("S: %d %s" % (reply[0], reply[1].decode(errors="replace")))
    if reply[0] != code:
        sys.exit("%s: expected %d, got %d" % (what, code, reply[0]))

s = smtplib.SMTP(host, port, local_hostname="client.example.org", timeout=30)
s.set_debuglevel(1)
s.ehlo()
frm, to = "%s@example.org" % S["MAIL_FROM_LOCAL"], "%s@%s" % (S["RCPT_LOCAL"], DOMAIN)
if mode == "auth-dsn":
    # a refused AUTH LOGIN whose initial response is the user name, then AUTH PLAIN without an initial
    # response (334, then the blob on its own line)
    s.user, s.password = USER, S["BADPASS"]
    try:
        s.auth("LOGIN", s.auth_login, initial_response_ok=True)
        sys.exit("AUTH with the wrong password was accepted")
    except smtplib.SMTPAuthenticationError as e:
        print("S: %d (expected)" % e.smtp_code)
    s.user, s.password = USER, S["PASS"]
    expect(s.auth("PLAIN", s.auth_plain, initial_response_ok=False), 235, "AUTH PLAIN")
    auth = "AUTH=<%s@%s>" % (S["AUTHID"], DOMAIN)
    time.sleep(1.5)  # a periodic tlsobs.stats (stats.interval=1s) falls inside the session
    # REQUIRETLS first: Postfix 3.7 refuses it (555) before it takes in AUTH= (else a later AUTH= is a 503)
    expect(s.mail(frm, ["REQUIRETLS", auth]), 555, "MAIL FROM ... REQUIRETLS")
    expect(s.mail(frm, [auth]), 250, "MAIL FROM ... AUTH=")
    expect(s.rcpt(to, ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;%s@%s" % (S["ORCPT"], DOMAIN)]), 250, "RCPT ORCPT=")
    expect(s.data(message("privacy-auth-dsn")), 250, "DATA")
elif mode == "bdat":
    if not s.has_extn("chunking"):
        sys.exit("no CHUNKING")
    s.user, s.password = USER, S["PASS"]
    expect(s.auth("PLAIN", s.auth_plain, initial_response_ok=True), 235, "AUTH PLAIN")
    expect(s.mail(frm), 250, "MAIL")
    expect(s.rcpt(to), 250, "RCPT")
    # BDAT data is not dot-stuffed and may hold anything: a lone '.' line, then command look-alikes
    extra = ("%s crosses the BDAT chunk boundary\n.\nMAIL FROM:<%s@example.org>\nBDAT 999 LAST\n"
             % (S["BDAT"], S["BODYCMD"]))
    msg = message("privacy-bdat", extra)
    i = msg.index(S["BDAT"].encode()) + len(S["BDAT"]) // 2
    for chunk, last in ((msg[:i], False), (msg[i:], True)):
        hdr = b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"")
        print("C: " + hdr.decode().strip())
        s.send(hdr + chunk)
        expect(s.getreply(), 250, "BDAT")
else:
    sys.exit("unknown mode")
s.quit()
EOF
}

py_cli() { # name mode port
  info "python smtplib client $2 -> $SRV4:$3"
  in_cli "$PY" "$WORK/smtplib-client.py" "$2" "$SRV4" "$3" "$WORK/s.env" "$WORK/body.txt" "$WORK/attach.txt" \
    >>"$WORK/logs/$1.client" 2>&1 || { tail -40 "$WORK/logs/$1.client" >&2; tail -20 "$PFV/log/maillog" >&2
                                       die "$1: smtplib client failed"; }
}

# ---------------------------------------------------------------- scenarios
declare -A DESC=(
  [swaks-auth-plain-587]="Port 587, STARTTLS offered but unused: swaks --pipeline, AUTH PLAIN with an initial response (235), MAIL/RCPT/DATA pipelined; Subject, X-Privacy-Note, body (with SMTP look-alike lines) and a text/plain attachment (base64) named after a sentinel."
  [swaks-auth-login-cram-25]="Port 25, no STARTTLS: session 1 swaks AUTH LOGIN (user and password each on a line after 334), session 2 (1.5 s later) swaks AUTH CRAM-MD5; the same message in both."
  [smtplib-auth-dsn-587]="Port 587, STARTTLS offered but unused, Python smtplib (lower-case verbs): AUTH LOGIN with the user as initial response and a wrong password (535), AUTH PLAIN without initial response (334, blob, 235), 1.5 s pause, MAIL FROM with AUTH= and REQUIRETLS (555), MAIL FROM with AUTH=, RCPT with NOTIFY/ORCPT=, DATA."
  [smtplib-bdat-25]="Port 25, no STARTTLS, Python smtplib: AUTH PLAIN with an initial response, then the message in two BDAT chunks cut inside a sentinel; the chunk data holds a lone '.' line and SMTP look-alike lines."
)
ORDER=(swaks-auth-plain-587 swaks-auth-login-cram-25 smtplib-auth-dsn-587 smtplib-bdat-25)

run_scenario() {
  local n=$1 f=$WORK/pcap/$1.pcap
  log "scenario $n"
  : >"$WORK/logs/$n.client"
  cap_start "$f"
  case $n in
    swaks-auth-plain-587)
      swaks_cli "$n" --port 587 --auth PLAIN --pipeline ;;
    swaks-auth-login-cram-25)
      swaks_cli "$n" --port 25 --auth LOGIN
      sleep 1.5
      swaks_cli "$n" --port 25 --auth CRAM-MD5 ;;
    smtplib-auth-dsn-587)
      py_cli "$n" auth-dsn 587 ;;
    smtplib-bdat-25)
      py_cli "$n" bdat 25 ;;
  esac
  cap_stop "$f"
  grep -qE "Ok: (queued|[0-9]+ bytes queued)" "$WORK/logs/$n.client" || die "$n: no message was queued"
  grep -qE "(^|[^0-9])235 " "$WORK/logs/$n.client" || die "$n: AUTH did not succeed"
  [[ $(stat -c %s "$f") -lt 65536 ]] || die "$n: capture larger than 64 KB"
}

# ---------------------------------------------------------------- main
ensure_packages
[[ -f $CHECK ]] || die "missing $CHECK"
WORK=$(mktemp -d /tmp/tlsobs-privacy-fixtures.XXXXXX)
chmod 755 "$WORK"
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/logs" "$WORK/pcap"
for k in "${!S[@]}"; do printf '%s=%s\n' "$k" "${S[$k]}"; done | sort >"$WORK/s.env"
{
  echo "# Sentinel strings in tests/fixtures/privacy/*.pcap (scripts/make-privacy-fixtures.sh)."
  echo "# tests/integration/privacy.sh proves they are on the wire, then that no output of tlsobs holds them."
  for k in "${!S[@]}"; do printf 'SENTINEL_%s=%s\n' "$k" "${S[$k]}"; done | sort
} >"$WORK/pcap/sentinels.env"

netns_setup
pf_setup
pf_start
write_parts
write_pyclient
for n in "${ORDER[@]}"; do run_scenario "$n"; done
pf_stop

log "checking the captures: every sentinel on the wire"
"$PY" "$CHECK" wire "$WORK/pcap" >&2 || die "wire check failed"

log "installing into $OUT"
mkdir -p "$OUT"
rm -f "$OUT"/*.pcap
cp "$WORK"/pcap/*.pcap "$WORK/pcap/sentinels.env" "$OUT/"
(cd "$OUT" && sha256sum -- *.pcap >MANIFEST)
{
  echo "# tlsobs privacy fixtures"
  echo
  echo "Captures for \`tests/integration/privacy.sh\`, made by \`scripts/make-privacy-fixtures.sh\` (do not edit by hand)."
  echo "Everything crosses in **clear text**, so AUTH credentials and message content are on the wire, and each place"
  echo "a sensor must never report holds a distinct sentinel string (\`sentinels.env\`): SASL user name, right and wrong"
  echo "password (base64 on the wire), Subject, another header, body, SMTP look-alike body lines, a text/plain attachment"
  echo "(base64) and its file name, BDAT chunk data, MAIL FROM \`AUTH=\` and RCPT \`ORCPT=\`, and the envelope local parts"
  echo "(reported only with \`smtp.keep_local_parts: true\`)."
  echo
  echo "* Server: Postfix $(postconf -dh mail_version) (private instance), Cyrus SASL $(dpkg-query -W -f '${Version}' libsasl2-2 | cut -d+ -f1) sasldb,"
  echo "  mech_list PLAIN LOGIN CRAM-MD5, \`smtpd_tls_auth_only = no\`; $MX, $SRV4; port 25 without STARTTLS, port 587 with"
  echo "  STARTTLS offered (never used). User \`${S[USER]}@${S[REALM]}\`, password \`${S[PASS]}\`."
  echo "* Clients at $CLI4, EHLO \`$HELO\`: swaks $(swaks --version 2>/dev/null | awk '/swaks version/{print $3; exit}'),"
  echo "  Python $("$PY" -c 'import platform; print(platform.python_version())') smtplib (script embedded in the recorder)."
  echo "* Network namespaces \`$NS_CLI\` / \`$NS_SRV\`, one veth pair; \`tcpdump -s 0 -U -w\` filter \`tcp\` on \`srv0\`, offloads off."
  echo "* \`MANIFEST\`: sha256 of every pcap."
  echo
  echo "| file | content |"
  echo "|---|---|"
  for n in "${ORDER[@]}"; do echo "| \`$n.pcap\` | ${DESC[$n]} |"; done
  echo
  echo "Regenerate: \`sudo scripts/make-privacy-fixtures.sh\` (root, Debian 12). Timestamps, ports, sequence numbers and"
  echo "the CRAM-MD5 challenge differ on every run."
} >"$OUT/README.md"

log "summary"
for n in "${ORDER[@]}"; do
  f=$OUT/$n.pcap
  printf '    %-32s %6s bytes %4s packets %s sessions\n' "$n.pcap" "$(stat -c %s "$f")" \
    "$(tshark -r "$f" 2>/dev/null | wc -l)" "$(tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' 2>/dev/null | wc -l)" >&2
done
log "done"

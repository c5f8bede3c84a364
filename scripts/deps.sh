#!/usr/bin/env bash
# Installs every Debian 12 package tlsobs needs to build, test and run its demo.
# Idempotent and non-interactive: installs only what is missing.
set -euo pipefail

# Build and runtime libraries.
BUILD_PACKAGES=(
	build-essential cmake pkg-config clang clang-format
	libpcap-dev libndpi-dev librdkafka-dev libmaxminddb-dev libssl-dev libyaml-dev libsqlite3-dev zlib1g-dev libseccomp-dev
	libcriterion-dev libmicrohttpd-dev
	libjs-chart.js # runtime of `tlsobs report html`: Chart.js, inlined into the page at report time
)
# Test oracles and tools (never runtime dependencies of the sensor).
TEST_PACKAGES=(
	tshark kcat tcpdump tcpreplay wireshark-common libndpi-bin
	libmaxmind-db-writer-perl python3 python3-jsonschema python3-yaml jq iproute2 openssl prometheus
	chromium # renders the HTML report in tests/integration/report_html.sh
	groff-base systemd logrotate  # packaging.sh: man pages, systemd-analyze, logrotate -d
)

missing=()
for pkg in "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter to us.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

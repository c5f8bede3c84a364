# tlsobs: the span-port appliance image.
#
# Build:  docker build -t tlsobs .
# Run:    docker run --rm --network host \
#           --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN --cap-add SETUID --cap-add SETGID \
#           -v /etc/tlsobs:/etc/tlsobs:ro tlsobs -i eth1 -c /etc/tlsobs/tlsobs.yaml -u tlsobs -g tlsobs
#
# Capture capabilities: NET_RAW opens the packet socket, NET_ADMIN sets promiscuous
# mode and the kernel buffer size. SETUID/SETGID let the sensor drop from root to
# the tlsobs user once the capture is open (-u/-g); after that it holds no capability
# and PR_SET_NO_NEW_PRIVS is set. To run as tlsobs from the start instead, keep the
# file capabilities set below (cap_net_raw,cap_net_admin+ep) and start with --user tlsobs.

# --- build stage: the same steps as the README's `make` -------------------------
FROM debian:12 AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh
COPY . .
# Hardened as every release build (CMakeLists.txt, TLSOBS_HARDEN): _FORTIFY_SOURCE=3, stack protector and
# stack clash protection, CET, PIE, full RELRO.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSOBS_WERROR=ON -DTLSOBS_TESTS=OFF -DTLSOBS_HARDEN=ON \
	&& cmake --build build -j "$(nproc)" \
	&& strip build/tlsobs

# --- runtime stage: the sensor and the libraries it links, nothing else ---------
FROM debian:12-slim
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		libpcap0.8 libndpi4.2 librdkafka1 libmaxminddb0 libssl3 libyaml-0-2 libsqlite3-0 zlib1g libseccomp2 \
		libcap2-bin ca-certificates libjs-chart.js \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system tlsobs \
	&& useradd --system --gid tlsobs --home-dir /var/lib/tlsobs --shell /usr/sbin/nologin tlsobs \
	&& mkdir -p /var/lib/tlsobs /etc/tlsobs \
	&& chown tlsobs:tlsobs /var/lib/tlsobs
COPY --from=build /src/build/tlsobs /usr/local/bin/tlsobs
COPY docs/tlsobs.example.yaml /etc/tlsobs/tlsobs.example.yaml
RUN setcap cap_net_raw,cap_net_admin+ep /usr/local/bin/tlsobs
USER tlsobs
WORKDIR /var/lib/tlsobs
# state_db: /var/lib/tlsobs/state.db and the Kafka spool live here: keep them across container restarts.
VOLUME /var/lib/tlsobs
ENTRYPOINT ["/usr/local/bin/tlsobs"]
CMD ["-h"]

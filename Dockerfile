# tlsobs: the span-port appliance image.
#
# Build:  docker build -t tlsobs .
# Run:    docker run -d --name tlsobs --network host \
#           --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
#           -v /etc/tlsobs:/etc/tlsobs:ro -v tlsobs-state:/var/lib/tlsobs tlsobs -i eth1
#
# The image runs as the unprivileged user tlsobs from the start: the binary carries
# the file capabilities cap_net_raw,cap_net_admin+ep (set below), which the container
# must allow (--cap-add NET_RAW --cap-add NET_ADMIN); nothing else is needed, and
# -u/-g are not (switching user needs SETUID/SETGID, which the container does not have).
# NET_RAW opens the packet socket, NET_ADMIN sets promiscuous mode and the kernel buffer.
#
# Configuration: without -c the sensor reads /etc/tlsobs/tlsobs.yaml (mount it; an
# example is in /usr/local/share/doc/tlsobs/). Health: give it
#   metrics.listen: 127.0.0.1:9273
# (or set TLSOBS_METRICS_PORT to the port you chose): the HEALTHCHECK fetches /metrics
# there and wants the tlsobs_build_info line; without metrics.listen the container
# reports unhealthy. `docker kill -s HUP tlsobs` reloads the configuration and reopens
# the file outputs.

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
COPY docs/tlsobs.example.yaml docs/events.md docs/events.schema.json docs/elasticsearch-component-template.json \
	/usr/local/share/doc/tlsobs/
# rule.reference of alerts points here by default (detection.runbook_base).
COPY docs/runbooks/ /usr/local/share/doc/tlsobs/runbooks/
RUN setcap cap_net_raw,cap_net_admin+ep /usr/local/bin/tlsobs
USER tlsobs
WORKDIR /var/lib/tlsobs
# state_db: /var/lib/tlsobs/state.db and the Kafka spool live here: keep them across container restarts.
VOLUME /var/lib/tlsobs
# The Prometheus endpoint (metrics.listen) answers with the sensor's counters: healthy.
ENV TLSOBS_METRICS_PORT=9273
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
	CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TLSOBS_METRICS_PORT} && printf 'GET /metrics HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && grep -q '^tlsobs_build_info' <&3"]
ENTRYPOINT ["/usr/local/bin/tlsobs"]
CMD ["-h"]

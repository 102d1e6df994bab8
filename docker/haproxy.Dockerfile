# haproxy from Debian 12, for docker/compose-postgres.yaml (the config is
# mounted from docker/haproxy.cfg). Build from the repository root:
#   docker build -f docker/haproxy.Dockerfile -t sibyl-haproxy .
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
USER haproxy
EXPOSE 8080
STOPSIGNAL SIGUSR1
# -db: stay in the foreground, log to stderr
ENTRYPOINT ["/usr/sbin/haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]

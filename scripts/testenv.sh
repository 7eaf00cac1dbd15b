#!/usr/bin/env bash
# The private test environment: three real Docker engines (a on a unix socket, b over TCP with
# TLS and certificates made here, c on a unix socket of its own for swarm tests, which turn it
# into a swarm manager), a local registry and a PostgreSQL cluster of its own (for the stores'
# tests on PostgreSQL), all on loopback, all under /run/capstan-test and /var/lib/capstan-test.
# It never talks to /var/run/docker.sock nor to the machine's own PostgreSQL.
#
#   testenv.sh up      start everything, build the busybox test image, write $RUN/env
#   testenv.sh up c    start only engine c (a and b and whoever uses them are left alone) and
#                      add CAPSTAN_TEST_SWARM_URL to $RUN/env
#   testenv.sh down    stop everything and remove every trace (also after a crashed run)
#
# Only one test environment runs at a time on a machine (the names of the bridges are fixed);
# `up` first removes whatever a killed earlier run left behind.
set -euo pipefail

RUN=/run/capstan-test
BASE=/var/lib/capstan-test
IMAGE=capstan-test/busybox:latest
ENGINES=(a b c)
declare -A BRIDGE_IP=([a]=10.231.1.1/24 [b]=10.231.2.1/24 [c]=10.231.3.1/24)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mtestenv:\033[0m %s\n' "$*" >&2; exit 1; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

kill_pidfile() { # kill_pidfile <file> : TERM, wait up to 20 s, then KILL
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  for e in "${ENGINES[@]}"; do kill_pidfile "$RUN/$e/dockerd.pid"; done
  kill_pidfile "$RUN/registry.pid"
  stop_postgres
  # A dockerd killed hard leaves its containerd, shims and mounts behind.
  pkill -KILL -f "containerd.*$RUN/" 2>/dev/null || true
  awk -v b="$BASE" -v r="$RUN" '$2 ~ "^"b || $2 ~ "^"r {print $2}' /proc/mounts | sort -r \
    | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for e in "${ENGINES[@]}"; do ip link del "capstan-$e" 2>/dev/null || true; done
  rm -rf "$RUN" "$BASE"
}

make_certs() { # CA, server cert for 127.0.0.1, client cert; and a rogue CA with its own client
  local d=$RUN/certs
  mkdir -p "$d/server" "$d/client" "$d/rogue"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=capstan-test-ca" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server/key.pem \
      -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
      -extfile server.ext -out server/cert.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=capstan-test-client" -keyout client/key.pem \
      -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
      -extfile client.ext -out client/cert.pem 2>/dev/null
    cp ca.pem server/ca.pem && cp ca.pem client/ca.pem
    # A client from another CA: the engine must reject it, and it must reject the engine.
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rogue-ca" \
      -keyout rogue/ca-key.pem -out rogue/ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=rogue-client" -keyout rogue/key.pem \
      -out rogue.csr 2>/dev/null
    openssl x509 -req -in rogue.csr -CA rogue/ca.pem -CAkey rogue/ca-key.pem -CAcreateserial \
      -days 2 -extfile client.ext -out rogue/cert.pem 2>/dev/null
    chmod 600 ./*key.pem ./*/key.pem
  )
}

start_engine() { # start_engine <name> [extra dockerd args...]
  local e=$1; shift
  mkdir -p "$RUN/$e/exec" "$BASE/$e"
  ip link add "capstan-$e" type bridge
  ip addr add "${BRIDGE_IP[$e]}" dev "capstan-$e"
  ip link set "capstan-$e" up
  # iptables off: the test engines must not rewrite the machine's firewall or fight the
  # user's own daemon over the DOCKER chains; published ports still work through docker-proxy.
  dockerd -H "unix://$RUN/$e/docker.sock" "$@" \
    --data-root "$BASE/$e" --exec-root "$RUN/$e/exec" --pidfile "$RUN/$e/dockerd.pid" \
    --bridge "capstan-$e" --iptables=false --ip6tables=false --ip-forward=false \
    --containerd-namespace "capstan-$e" --containerd-plugins-namespace "capstan-$e-plugins" \
    --storage-driver overlay2 --log-level warn \
    >"$RUN/$e/dockerd.log" 2>&1 &
}

# Engine c only: what a killed earlier c left behind, without touching a, b or the registry.
clean_engine() { # clean_engine <name>
  local e=$1
  kill_pidfile "$RUN/$e/dockerd.pid"
  pkill -KILL -f "containerd.*$RUN/$e/" 2>/dev/null || true
  awk -v b="$BASE/$e" -v r="$RUN/$e" '$2 ~ "^"b"(/|$)" || $2 ~ "^"r"(/|$)" {print $2}' /proc/mounts \
    | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  ip link del "capstan-$e" 2>/dev/null || true
  rm -rf "${RUN:?}/$e" "${BASE:?}/$e"
}

# The swarm engine: its own socket, bridge, data and exec roots. Swarm tests make it a manager
# (listening on loopback only) and leave the swarm again.
up_swarm_engine() {
  clean_engine c
  mkdir -p "$RUN" "$BASE"
  log "starting engine c (unix socket, for swarm tests)"
  start_engine c
  wait_engine c -H "unix://$RUN/c/docker.sock"
  local line="export CAPSTAN_TEST_SWARM_URL=unix://$RUN/c/docker.sock"
  if [ -f "$RUN/env" ]; then
    grep -v '^export CAPSTAN_TEST_SWARM_URL=' "$RUN/env" >"$RUN/env.new" || true
    printf '%s\n' "$line" >>"$RUN/env.new"
    mv "$RUN/env.new" "$RUN/env"
  else
    printf '%s\n' "$line" >"$RUN/env"
  fi
}

wait_engine() { # wait_engine <name> <docker cli args...>
  local e=$1; shift
  for _ in $(seq 1 150); do
    docker "$@" version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -n 30 "$RUN/$e/dockerd.log" >&2
  die "engine $e did not start (log above)"
}

pg_bin() { # the newest installed PostgreSQL's programs (Debian keeps them off PATH)
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || die "PostgreSQL is missing (./dev test installs it when run as root)"
  echo "$d"
}

stop_postgres() {
  local f=$BASE/pg/postmaster.pid pid
  [ -f "$f" ] || return 0
  pid=$(head -n 1 "$f")
  kill -QUIT "$pid" 2>/dev/null || true # immediate shutdown: the cluster is thrown away
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# A throwaway cluster owned by the postgres user (the server refuses to run as root), trusting
# loopback, without fsync: the tests' databases need not survive a power cut.
start_postgres() { # start_postgres <port>
  local port=$1 bin
  bin=$(pg_bin)
  mkdir -p "$BASE/pg" "$RUN/pg"
  chown postgres: "$BASE/pg" "$RUN/pg"
  runuser -u postgres -- "$bin/initdb" -D "$BASE/pg" -U capstan --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$RUN/pg-init.log" 2>&1 || { cat "$RUN/pg-init.log" >&2; die "initdb failed"; }
  runuser -u postgres -- "$bin/pg_ctl" -D "$BASE/pg" -l "$RUN/pg/postgres.log" -w -t 30 \
    -o "-p $port -k $RUN/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { tail -n 30 "$RUN/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
}

up() {
  [ "$(id -u)" -eq 0 ] || die "the test engines need root (dockerd, bridges): run as root"
  for t in dockerd docker docker-registry busybox openssl ip node; do
    command -v "$t" >/dev/null || die "$t is missing (./dev test installs it when run as root)"
  done
  down
  mkdir -p "$RUN" "$BASE"
  make_certs

  local tls_port reg_port refused_port pg_port
  tls_port=$(free_port); reg_port=$(free_port); refused_port=$(free_port); pg_port=$(free_port)

  log "starting PostgreSQL on 127.0.0.1:$pg_port"
  start_postgres "$pg_port"

  log "starting engines a (unix socket), b (TCP + TLS on 127.0.0.1:$tls_port) and c (swarm)"
  start_engine a
  start_engine b -H "tcp://127.0.0.1:$tls_port" --tlsverify \
    --tlscacert "$RUN/certs/server/ca.pem" --tlscert "$RUN/certs/server/cert.pem" \
    --tlskey "$RUN/certs/server/key.pem"
  start_engine c

  log "starting the registry on 127.0.0.1:$reg_port"
  mkdir -p "$BASE/registry"
  cat >"$RUN/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $BASE/registry}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$reg_port
YML
  docker-registry serve "$RUN/registry.yml" >"$RUN/registry.log" 2>&1 &
  echo $! >"$RUN/registry.pid"

  local A=(-H "unix://$RUN/a/docker.sock")
  local B=(-H "tcp://127.0.0.1:$tls_port" --tlsverify --tlscacert "$RUN/certs/client/ca.pem"
           --tlscert "$RUN/certs/client/cert.pem" --tlskey "$RUN/certs/client/key.pem")
  wait_engine a "${A[@]}"
  wait_engine b "${B[@]}"
  wait_engine c -H "unix://$RUN/c/docker.sock"

  log "building the busybox test image on both engines"
  local ctx=$RUN/image
  mkdir -p "$ctx"
  cp "$(readlink -f "$(command -v busybox)")" "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker "${A[@]}" build -q -t "$IMAGE" "$ctx" >/dev/null
  DOCKER_BUILDKIT=0 docker "${B[@]}" build -q -t "$IMAGE" "$ctx" >/dev/null

  for _ in $(seq 1 50); do
    node -e "require('http').get('http://127.0.0.1:$reg_port/v2/',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))" && break
    sleep 0.2
  done
  docker "${A[@]}" tag "$IMAGE" "127.0.0.1:$reg_port/$IMAGE"
  docker "${A[@]}" push -q "127.0.0.1:$reg_port/$IMAGE" >/dev/null
  docker "${A[@]}" rmi "127.0.0.1:$reg_port/$IMAGE" >/dev/null

  cat >"$RUN/env" <<ENV
export CAPSTAN_TEST_UNIX_URL=unix://$RUN/a/docker.sock
export CAPSTAN_TEST_TLS_URL=tcp://127.0.0.1:$tls_port
export CAPSTAN_TEST_TLS_DIR=$RUN/certs/client
export CAPSTAN_TEST_ROGUE_TLS_DIR=$RUN/certs/rogue
export CAPSTAN_TEST_REFUSED_URL=tcp://127.0.0.1:$refused_port
export CAPSTAN_TEST_MISSING_URL=unix://$RUN/missing/docker.sock
export CAPSTAN_TEST_REGISTRY=127.0.0.1:$reg_port
export CAPSTAN_TEST_IMAGE=$IMAGE
export CAPSTAN_TEST_SWARM_URL=unix://$RUN/c/docker.sock
export CAPSTAN_TEST_PG_URL=postgres://capstan@127.0.0.1:$pg_port/postgres
ENV
  log "test environment is up ($RUN/env)"
}

case "${1:-}:${2:-}" in
  up:) up ;;
  up:c)
    [ "$(id -u)" -eq 0 ] || die "the test engines need root (dockerd, bridges): run as root"
    up_swarm_engine
    log "engine c is up ($RUN/env)"
    ;;
  down:) down ;;
  *) die "usage: testenv.sh up [c] | down" ;;
esac

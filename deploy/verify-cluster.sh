#!/usr/bin/env bash
# End-to-end check of the 3-node cluster compose files, on a machine without registry access.
#
#   deploy/verify-cluster.sh
#
# Base image and binary exactly as deploy/verify-docker.sh does them (local debootstrap base
# image raftrocks-local/debian:bookworm, cached; raftrocks built on the host and copied into
# the image with BINARY_FROM=prebuilt). Then, for docker-compose.cluster.yml and
# docker-compose.cluster-auth.yml, in a throwaway compose project on non-default ports:
#   1. up -d --build; every node healthy and reporting cluster_state:ok;
#   2. redis-cli -c from the host writes and reads keys in every node's slots;
#      redis-cli --cluster check passes;
#   3. docker kill one node: writes through redis-cli -c via the other nodes succeed again
#      after the failover (time printed);
#   4. the node is started again: it rejoins (cluster_state:ok, CLUSTER NODES lists it as
#      connected) and a READONLY read on it sees data written while it was down;
#   5. down -v.
# The auth variant also checks that a client without the password gets NOAUTH.
#
# Environment (all optional):
#   VERIFY_PORT_BASE   host ports VERIFY_PORT_BASE+1..3       (16400 -> 16401-16403)
#   VERIFY_WAIT_SECS   max wait for healthy / cluster ok       (180)
#   BASE_IMAGE         local base image tag                    (raftrocks-local/debian:bookworm)
#   CARGO_TARGET_DIR   where cargo builds                      ($HOME/.cache/raftrocks-target)
#   SKIP_BUILD=1       use deploy/.prebuilt/raftrocks as it is
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY_DIR=$REPO_ROOT/deploy
BASE_IMAGE=${BASE_IMAGE:-raftrocks-local/debian:bookworm}
PORT_BASE=${VERIFY_PORT_BASE:-16400}
WAIT_SECS=${VERIFY_WAIT_SECS:-180}
CARGO_TIMEOUT=${CARGO_TIMEOUT:-5400}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/raftrocks-target}

RUN_ID=$(date +%s)-$$
PROJECT_PREFIX=raftrocks-vcluster-$RUN_ID
VERIFY_IMAGE=raftrocks-vcluster:$RUN_ID
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/raftrocks-vcluster.XXXXXX")
STARTED_PROJECTS=() # "project|compose-file|env-file" entries to tear down
DANGLING_BEFORE=""
BUILT=0

PROJECT=""
COMPOSE_YML=""
ENV_FILE=""
REDIS_AUTH=()
PORTS=($((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 3)))

# log, info, die, detect_compose, teardown_projects, build_binary
source "$DEPLOY_DIR/verify-lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if ((rc != 0)) && [[ -n $PROJECT ]]; then
        local n cid
        for n in node1 node2 node3; do
            cid=$(compose ps -q "$n" 2>/dev/null | head -n 1)
            [[ -n $cid ]] || continue
            echo "---- $n: state $(docker inspect -f '{{json .State.Status}}' "$cid" 2>/dev/null), last 30 log lines ----" >&2
            docker logs --tail 30 "$cid" >&2 2>&1
        done
    fi
    teardown_projects
    rm -rf "$WORK_DIR"
    if ((rc == 0)); then log "ALL CLUSTER CHECKS PASSED"; else echo "!!! verify-cluster.sh failed (exit $rc)" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

preflight() {
    log "checking tools"
    detect_compose
    local p
    for p in "${PORTS[@]}"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            die "port $p is already in use on 127.0.0.1; set VERIFY_PORT_BASE"
        fi
    done
    unset RAFTROCKS_PASSWORD RAFTROCKS_CLUSTER_SECRET RAFTROCKS_LOG_LEVEL COMPOSE_FILE \
        COMPOSE_PROJECT_NAME COMPOSE_PROFILES
}

ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE exists"
        return
    fi
    # verify-docker.sh knows how to make it (debootstrap + docker import); it keeps the
    # image as a cache, so running it once is enough.
    die "base image $BASE_IMAGE missing: run deploy/verify-docker.sh once to create it"
}

build_or_reuse_binary() {
    if [[ ${SKIP_BUILD:-0} == 1 ]]; then
        [[ -x $DEPLOY_DIR/.prebuilt/raftrocks ]] || die "SKIP_BUILD=1 but no deploy/.prebuilt/raftrocks"
        log "using existing deploy/.prebuilt/raftrocks"
        return
    fi
    build_binary
}

compose() { "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" -f "$COMPOSE_YML" "$@"; }

cid_of() {
    local cid
    cid=$(compose ps -q "$1" 2>/dev/null | head -n 1)
    [[ -n $cid ]] || die "no container for $1 in project $PROJECT"
    echo "$cid"
}

# rcli N ARGS...: redis-cli against node N (1-3) through its published port.
rcli() {
    local n=$1
    shift
    timeout 15 redis-cli -h 127.0.0.1 -p "${PORTS[n - 1]}" "${REDIS_AUTH[@]}" "$@" 2>&1
}

container_ip() {
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" 2>/dev/null
}

wait_healthy() {
    local n cid health deadline=$((SECONDS + WAIT_SECS))
    for n in node1 node2 node3; do
        cid=$(cid_of "$n")
        while :; do
            health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$cid")
            [[ $health == healthy ]] && break
            ((SECONDS < deadline)) || die "$n not healthy after ${WAIT_SECS}s (health=$health)"
            sleep 1
        done
    done
    info "all nodes healthy"
}

# wait_cluster_ok N...: each node N reports cluster_state:ok.
wait_cluster_ok() {
    local n out deadline=$((SECONDS + WAIT_SECS))
    for n in "$@"; do
        while :; do
            out=$(rcli "$n" cluster info) || true
            [[ $out == *cluster_state:ok* ]] && break
            ((SECONDS < deadline)) || die "node$n not cluster_state:ok after ${WAIT_SECS}s: $out"
            sleep 1
        done
    done
    info "cluster_state:ok on node(s) $*"
}

# set_via N KEY VALUE: redis-cli -c through node N, retried (a failover may be in progress).
set_via() {
    local n=$1 k=$2 v=$3 got deadline=$((SECONDS + WAIT_SECS))
    while :; do
        got=$(rcli "$n" -c set "$k" "$v") || true
        [[ $got == OK ]] && return 0
        ((SECONDS < deadline)) || die "redis-cli -c -p ${PORTS[n - 1]} set $k: $got"
        sleep 0.5
    done
}

expect_get() {
    local n=$1 k=$2 want=$3 got
    got=$(rcli "$n" -c get "$k") || true
    [[ $got == "$want" ]] || die "redis-cli -c (node$n) get $k: expected '$want', got '$got'"
}

run_scenario() {
    local name=$1 file=$2 i k got t0 victim=2 survivor=1
    PROJECT=$PROJECT_PREFIX-$name
    COMPOSE_YML=$DEPLOY_DIR/$file
    log "[$name] $file: up -d --build (project $PROJECT, ports ${PORTS[*]})"
    STARTED_PROJECTS+=("$PROJECT|$COMPOSE_YML|$ENV_FILE")
    timeout "$BUILD_TIMEOUT" "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" \
        -f "$COMPOSE_YML" up -d --build || die "compose up failed"
    wait_healthy
    wait_cluster_ok 1 2 3

    if [[ $name == auth ]]; then
        local saved=("${REDIS_AUTH[@]}")
        REDIS_AUTH=()
        got=$(rcli 1 -c set k v) || true
        [[ $got == NOAUTH* ]] || die "SET without password: expected NOAUTH, got '$got'"
        info "redis-cli without password -> $got"
        REDIS_AUTH=("${saved[@]}")
    fi

    log "[$name] cluster client from the host (redis-cli -c)"
    got=$(rcli 1 cluster slots | grep -c '^127.0.0.1$' || true)
    info "CLUSTER SLOTS names 127.0.0.1 (the announced host) $got times"
    for i in $(seq 1 30); do set_via $(((i % 3) + 1)) "vc:$i" "v$i"; done
    for i in $(seq 1 30); do expect_get $((((i + 1) % 3) + 1)) "vc:$i" "v$i"; done
    info "30 keys written and read across all nodes"
    got=$(timeout 30 redis-cli "${REDIS_AUTH[@]}" --cluster check "127.0.0.1:${PORTS[0]}" 2>&1) ||
        die "redis-cli --cluster check failed: $got"
    info "redis-cli --cluster check: $(echo "$got" | grep -c '\[OK\]') [OK] lines"

    log "[$name] docker kill node$victim"
    local vcid
    vcid=$(cid_of node$victim)
    info "node$victim address before the kill: $(container_ip "$vcid")"
    docker kill "$vcid" >/dev/null
    t0=$SECONDS
    for i in $(seq 1 30); do set_via $survivor "vc:$i" "w$i"; done
    for i in $(seq 31 60); do set_via $((i % 2 ? 1 : 3)) "vc:$i" "w$i"; done
    info "writes via node$survivor/node3 succeed again; all 60 done $((SECONDS - t0))s after the kill"
    info "node$victim state now: $(docker inspect -f '{{.State.Status}} (restarts {{.RestartCount}})' "$vcid")"

    log "[$name] restart node$victim"
    if [[ $(docker inspect -f '{{.State.Running}}' "$vcid") != true ]]; then
        docker start "$vcid" >/dev/null
    fi
    # A restarted container may get another address; peers must resolve node2 again.
    info "node$victim address after the restart: $(container_ip "$vcid")"
    wait_cluster_ok 1 2 3
    got=$(rcli 1 cluster nodes)
    echo "$got" | grep -q "127.0.0.1:${PORTS[victim - 1]}@.* connected" ||
        die "CLUSTER NODES does not show node$victim connected: $got"
    info "CLUSTER NODES shows node$victim (127.0.0.1:${PORTS[victim - 1]}) connected"
    # READONLY read on the restarted node: it replicates every group (3 replicas, 3 nodes).
    local deadline=$((SECONDS + WAIT_SECS))
    while :; do
        got=$(printf 'READONLY\nGET vc:60\nGET vc:1\n' | rcli $victim | tr '\n' ' ')
        [[ $got == "OK w60 w1 " ]] && break
        ((SECONDS < deadline)) || die "READONLY read on node$victim: got '$got'"
        sleep 1
    done
    info "READONLY GET on node$victim sees writes made while it was down"
    for i in $(seq 1 60); do expect_get $victim "vc:$i" "w$i"; done
    info "redis-cli -c via node$victim reads all 60 keys"

    log "[$name] down -v"
    compose down -v --remove-orphans --timeout 30 >/dev/null 2>&1 || die "compose down failed"
    unset 'STARTED_PROJECTS[-1]'
    PROJECT=""
}

main() {
    preflight
    ensure_base_image
    build_or_reuse_binary
    export RUNTIME_IMAGE=$BASE_IMAGE BINARY_FROM=prebuilt RUST_IMAGE=$BASE_IMAGE
    export RAFTROCKS_IMAGE=$VERIFY_IMAGE RAFTROCKS_BIND=127.0.0.1 RAFTROCKS_ANNOUNCE_HOST=127.0.0.1
    export RAFTROCKS_CLUSTER_PORT_1=${PORTS[0]} RAFTROCKS_CLUSTER_PORT_2=${PORTS[1]} RAFTROCKS_CLUSTER_PORT_3=${PORTS[2]}
    DANGLING_BEFORE=$(docker images -q -f dangling=true | sort -u)
    BUILT=1

    ENV_FILE=$WORK_DIR/plain.env
    : >"$ENV_FILE"
    REDIS_AUTH=()
    run_scenario plain docker-compose.cluster.yml

    local password secret
    password=verify-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
    secret=secret-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
    ENV_FILE=$WORK_DIR/auth.env
    printf 'RAFTROCKS_PASSWORD=%s\nRAFTROCKS_CLUSTER_SECRET=%s\n' "$password" "$secret" >"$ENV_FILE"
    REDIS_AUTH=(--no-auth-warning -a "$password")
    run_scenario auth docker-compose.cluster-auth.yml
}

main "$@"

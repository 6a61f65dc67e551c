#!/usr/bin/env bash
# End-to-end check of the Docker deployment in deploy/, on a machine without registry access.
#
#   deploy/verify-docker.sh
#
# 1. Makes a local Debian bookworm base image (raftrocks-local/debian:bookworm) with
#    debootstrap from the Debian mirror apt already uses, then `docker import`. Cached:
#    skipped when that image exists.
# 2. Builds raftrocks on the host (cargo build --release --locked) and copies the binary to
#    deploy/.prebuilt/raftrocks (gitignored).
# 3. With RUNTIME_IMAGE=<local base> BINARY_FROM=prebuilt, in a throwaway compose project on
#    a non-default port: docker-compose.yml (no password) and then docker-compose.auth.yml
#    (password from a generated env file): up --build, wait healthy, SET/GET, restart, check
#    the data survived, graceful stop, down -v.
#
# Environment (all optional):
#   VERIFY_PORT        host port to publish on              (16379)
#   VERIFY_WAIT_SECS   max wait for "healthy"                (120)
#   BASE_IMAGE         local base image tag                  (raftrocks-local/debian:bookworm)
#   DEBIAN_MIRROR      mirror for debootstrap                (the one apt uses for bookworm)
#   CARGO_TARGET_DIR   where cargo builds                    ($HOME/.cache/raftrocks-target)
#   KEEP_BASE_IMAGE=0  also delete the base image at the end (default: keep it as a cache)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY_DIR=$REPO_ROOT/deploy
SUITE=bookworm
BASE_IMAGE=${BASE_IMAGE:-raftrocks-local/debian:bookworm}
PORT=${VERIFY_PORT:-16379}
WAIT_SECS=${VERIFY_WAIT_SECS:-120}
DEBOOTSTRAP_TIMEOUT=${DEBOOTSTRAP_TIMEOUT:-1800}
CARGO_TIMEOUT=${CARGO_TIMEOUT:-5400}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/raftrocks-target}

RUN_ID=$(date +%s)-$$
PROJECT_PREFIX=raftrocks-verify-$RUN_ID
VERIFY_IMAGE=raftrocks-verify:$RUN_ID
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/raftrocks-verify.XXXXXX")
ROOTFS=""
STARTED_PROJECTS=()   # "project|compose-file|env-file" entries to tear down
DANGLING_BEFORE=""    # untagged images that existed before our builds (not ours to delete)
BUILT=0

# Current scenario (used by compose() and the redis helpers).
PROJECT=""
COMPOSE_YML=""
ENV_FILE=""
REDIS_AUTH=()

# log, info, die, detect_compose, teardown_projects, build_binary
source "$DEPLOY_DIR/verify-lib.sh"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

# ---------------------------------------------------------------------------------------
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    teardown_projects
    if [[ ${KEEP_BASE_IMAGE:-1} == 0 ]]; then docker image rm -f "$BASE_IMAGE" >/dev/null 2>&1; fi
    remove_rootfs
    rm -rf "$WORK_DIR"
    if ((rc == 0)); then log "ALL CHECKS PASSED"; else echo "!!! verify-docker.sh failed (exit $rc)" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

remove_rootfs() {
    [[ -n $ROOTFS && -d $ROOTFS ]] || return 0
    # debootstrap mounts proc/sys inside the target; if it died half-way they may remain.
    local m
    while read -r m; do
        "${SUDO[@]}" umount -l "$m" 2>/dev/null
    done < <(awk -v r="$ROOTFS/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r)
    "${SUDO[@]}" rm -rf --one-file-system "$ROOTFS"
    ROOTFS=""
}

# ---------------------------------------------------------------------------------------
preflight() {
    log "checking tools"
    detect_compose
    command -v cargo >/dev/null || die "cargo not found"
    command -v timeout >/dev/null || die "timeout (coreutils) not found"
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "port $PORT is already in use on 127.0.0.1; set VERIFY_PORT"
    fi
    # Nothing from the caller's shell may leak into the compose files under test.
    unset RAFTROCKS_PASSWORD RAFTROCKS_LOG_LEVEL COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES
}

# ---------------------------------------------------------------------------------------
# The bookworm mirror apt is configured with (sources.list or deb822 .sources alike):
# ask apt rather than parse its files, and require the Release origin to be Debian.
debian_mirror() {
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then
        echo "$DEBIAN_MIRROR"
        return
    fi
    local uri
    uri=$(apt-cache policy 2>/dev/null | awk -v s="$SUITE" '
        $1 ~ /^[0-9]+$/ && $3 == s "/main" { uri = $2; next }
        uri != "" && $1 == "release" {
            if ($0 ~ /[ ,]o=Debian(,|$)/ && $0 ~ ("[ ,]n=" s "(,|$)")) { print uri; exit }
            uri = ""; next
        }') || true
    echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE exists (cached), skipping debootstrap"
        return
    fi
    log "building base image $BASE_IMAGE with debootstrap"
    if ! command -v debootstrap >/dev/null; then
        info "installing debootstrap"
        "${SUDO[@]}" apt-get install -y debootstrap >/dev/null ||
            { "${SUDO[@]}" apt-get update >/dev/null && "${SUDO[@]}" apt-get install -y debootstrap >/dev/null; } ||
            die "could not install debootstrap"
    fi
    local mirror
    mirror=$(debian_mirror)
    info "mirror: $mirror"
    ROOTFS=$(mktemp -d "${TMPDIR:-/var/tmp}/raftrocks-rootfs.XXXXXX")
    # minbase already has libstdc++6/libgcc-s1 (apt needs them); listed to make the need explicit:
    # the runtime stage installs nothing, so whatever the binary links must be in the base.
    if ! "${SUDO[@]}" timeout "$DEBOOTSTRAP_TIMEOUT" debootstrap --variant=minbase \
        --include=libstdc++6,libgcc-s1 "$SUITE" "$ROOTFS" "$mirror" \
        >"$WORK_DIR/debootstrap.log" 2>&1; then
        tail -n 30 "$WORK_DIR/debootstrap.log" >&2
        die "debootstrap failed (log above)"
    fi
    "${SUDO[@]}" rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    info "importing rootfs ($("${SUDO[@]}" du -sh --one-file-system "$ROOTFS" | cut -f1))"
    "${SUDO[@]}" tar --numeric-owner --one-file-system -C "$ROOTFS" -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            - "$BASE_IMAGE" >/dev/null
    remove_rootfs
    docker run --rm "$BASE_IMAGE" bash -c 'ls /usr/lib/x86_64-linux-gnu/libstdc++.so.6 >/dev/null' ||
        die "base image lacks libstdc++"
    info "base image ready"
}

# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
compose() {
    "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" -f "$COMPOSE_YML" "$@"
}

container_id() {
    local cid
    cid=$(compose ps -q raftrocks 2>/dev/null | head -n 1)
    [[ -n $cid ]] || die "no raftrocks container in project $PROJECT"
    echo "$cid"
}

dump_container() {
    local cid=$1
    echo "---- docker inspect (state) ----" >&2
    docker inspect -f '{{json .State}}' "$cid" >&2 || true
    echo "---- container logs (last 50 lines) ----" >&2
    docker logs --tail 50 "$cid" >&2 || true
}

last_probe() {
    docker inspect -f '{{range .State.Health.Log}}{{println .Output}}{{end}}' "$1" 2>/dev/null |
        grep -v '^$' | tail -n 1 || true
}

wait_healthy() {
    local cid=$1 deadline=$((SECONDS + WAIT_SECS)) state health restarts
    info "waiting for container ${cid:0:12} to become healthy (max ${WAIT_SECS}s)"
    while :; do
        state=$(docker inspect -f '{{.State.Status}}' "$cid")
        health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$cid")
        restarts=$(docker inspect -f '{{.RestartCount}}' "$cid")
        if [[ $health == healthy ]]; then
            info "healthy after $((WAIT_SECS - (deadline - SECONDS)))s; probe said: $(last_probe "$cid")"
            return 0
        fi
        if [[ $health == none ]]; then dump_container "$cid"; die "image has no HEALTHCHECK"; fi
        if [[ $state == exited || $state == dead || $restarts -gt 0 ]]; then
            dump_container "$cid"
            die "container stopped or crash-looped (state=$state restarts=$restarts)"
        fi
        if ((SECONDS >= deadline)); then
            dump_container "$cid"
            die "not healthy after ${WAIT_SECS}s (state=$state health=$health)"
        fi
        sleep 1
    done
}

rcli() { timeout 10 redis-cli -h 127.0.0.1 -p "$PORT" "${REDIS_AUTH[@]}" "$@" 2>&1; }

# expect WANT CMD... : run redis-cli CMD... and compare its (raw, non-tty) output.
expect() {
    local want=$1 got
    shift
    got=$(rcli "$@") || true
    [[ $got == "$want" ]] || die "redis-cli $*: expected '$want', got '$got'"
    info "redis-cli $* -> $got"
}

declare -A WRITTEN=()
write_keys() {
    local i k v
    WRITTEN=()
    for i in 1 2 3 4 5; do
        k="verify:u:$i:pr:$RANDOM"
        v="{\"pos\":$((RANDOM % 7200)),\"run\":\"$RUN_ID\",\"n\":$i}"
        expect OK set "$k" "$v"
        WRITTEN[$k]=$v
    done
}

check_keys() {
    local k
    for k in "${!WRITTEN[@]}"; do
        expect "${WRITTEN[$k]}" get "$k"
    done
}

# ---------------------------------------------------------------------------------------
run_scenario() {
    local name=$1 file=$2 cid started_before started_after t0 exit_code port_map uid
    PROJECT=$PROJECT_PREFIX-$name
    COMPOSE_YML=$DEPLOY_DIR/$file
    log "[$name] $file: up -d --build (project $PROJECT, port 127.0.0.1:$PORT)"
    STARTED_PROJECTS+=("$PROJECT|$COMPOSE_YML|$ENV_FILE")
    timeout "$BUILD_TIMEOUT" "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" \
        -f "$COMPOSE_YML" up -d --build || die "compose up failed"
    cid=$(container_id)
    wait_healthy "$cid"

    log "[$name] container checks"
    uid=$(docker exec "$cid" id -u)
    [[ $uid != 0 ]] || die "server runs as root"
    info "runs as uid $uid"
    port_map=$(docker port "$cid" 6379/tcp)
    [[ $port_map == "127.0.0.1:$PORT" ]] || die "port mapping is '$port_map', expected 127.0.0.1:$PORT"
    info "published on $port_map only"

    log "[$name] RESP checks"
    if [[ $name == auth ]]; then
        local saved=("${REDIS_AUTH[@]}") got
        REDIS_AUTH=()
        got=$(rcli ping) || true
        [[ $got == NOAUTH* ]] || die "PING without password: expected NOAUTH..., got '$got'"
        info "redis-cli ping (no password) -> $got"
        got=$(rcli set verify:noauth x) || true
        [[ $got == NOAUTH* ]] || die "SET without password: expected NOAUTH..., got '$got'"
        info "redis-cli set (no password) -> $got"
        REDIS_AUTH=(--no-auth-warning -a "wrong-$RUN_ID")
        got=$(rcli ping) || true
        [[ $got != *PONG* ]] || die "PING with a wrong password answered PONG"
        info "redis-cli -a <wrong> ping -> $(echo "$got" | tr '\n' ' ')"
        REDIS_AUTH=("${saved[@]}")
    fi
    expect PONG ping
    expect OK set verify:hello world
    expect world get verify:hello
    write_keys

    log "[$name] compose restart"
    started_before=$(docker inspect -f '{{.State.StartedAt}}' "$cid")
    timeout 120 "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" -f "$COMPOSE_YML" restart ||
        die "compose restart failed"
    cid=$(container_id)
    started_after=$(docker inspect -f '{{.State.StartedAt}}' "$cid")
    [[ $started_before != "$started_after" ]] || die "container was not restarted"
    wait_healthy "$cid"
    log "[$name] data after restart"
    expect world get verify:hello
    check_keys

    log "[$name] graceful stop (SIGTERM)"
    t0=$SECONDS
    timeout 120 "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" -f "$COMPOSE_YML" stop ||
        die "compose stop failed"
    exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$cid")
    info "stopped in $((SECONDS - t0))s, exit code $exit_code"
    [[ $exit_code != 137 ]] || die "server ignored SIGTERM and was killed after stop_grace_period"
    if [[ $exit_code != 0 ]]; then
        docker logs --tail 20 "$cid" >&2 || true
        die "unclean shutdown on SIGTERM: exit code $exit_code (>128 = killed by signal $((exit_code - 128)))"
    fi

    log "[$name] down -v"
    timeout 120 "${COMPOSE[@]}" --project-name "$PROJECT" --env-file "$ENV_FILE" -f "$COMPOSE_YML" \
        down -v --remove-orphans || die "compose down failed"
    unset 'STARTED_PROJECTS[-1]'
}

# ---------------------------------------------------------------------------------------
main() {
    preflight
    ensure_base_image
    build_binary

    # Build inputs for both compose files. RUST_IMAGE is only read by the legacy (non-
    # BuildKit) builder, which walks every stage; point it at an image that exists locally.
    export RUNTIME_IMAGE=$BASE_IMAGE BINARY_FROM=prebuilt RUST_IMAGE=$BASE_IMAGE
    export RAFTROCKS_IMAGE=$VERIFY_IMAGE RAFTROCKS_PORT=$PORT RAFTROCKS_BIND=127.0.0.1
    DANGLING_BEFORE=$(docker images -q -f dangling=true | sort -u)
    BUILT=1

    # 1. No password.
    ENV_FILE=$WORK_DIR/plain.env
    : >"$ENV_FILE"
    REDIS_AUTH=()
    run_scenario plain docker-compose.yml

    # 2. Password from an env file. First: compose must refuse to start without it.
    log "[auth] docker-compose.auth.yml without RAFTROCKS_PASSWORD must fail clearly"
    ENV_FILE=$WORK_DIR/empty.env
    : >"$ENV_FILE"
    local out
    if out=$("${COMPOSE[@]}" --project-name "$PROJECT_PREFIX-noenv" --env-file "$ENV_FILE" \
        -f "$DEPLOY_DIR/docker-compose.auth.yml" config 2>&1); then
        die "compose accepted docker-compose.auth.yml without RAFTROCKS_PASSWORD"
    fi
    [[ $out == *"set RAFTROCKS_PASSWORD in .env"* ]] || die "unexpected compose error: $out"
    info "compose said: $(echo "$out" | grep -m1 'RAFTROCKS_PASSWORD')"

    local password
    password=verify-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
    ENV_FILE=$WORK_DIR/auth.env
    printf 'RAFTROCKS_PASSWORD=%s\n' "$password" >"$ENV_FILE"
    REDIS_AUTH=(--no-auth-warning -a "$password")
    run_scenario auth docker-compose.auth.yml
}

main "$@"

# Shared by deploy/verify-docker.sh and deploy/verify-cluster.sh (sourced, not run).
# Callers set REPO_ROOT, DEPLOY_DIR, CARGO_TARGET_DIR, CARGO_TIMEOUT, VERIFY_IMAGE, and keep
# STARTED_PROJECTS ("project|compose-file|env-file"), DANGLING_BEFORE and BUILT up to date.
# shellcheck shell=bash

log() { printf '==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
    printf '!!! FAILED: %s\n' "$*" >&2
    exit 1
}

# Sets COMPOSE to the compose command this machine has; checks the daemon and redis-cli.
detect_compose() {
    command -v docker >/dev/null || die "docker not found"
    docker info >/dev/null 2>&1 || die "cannot talk to the Docker daemon (docker info failed)"
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    elif command -v docker-compose >/dev/null; then
        COMPOSE=(docker-compose)
    else
        die "neither 'docker compose' nor 'docker-compose' is available"
    fi
    info "compose: ${COMPOSE[*]} ($("${COMPOSE[@]}" version --short 2>/dev/null || echo '?'))"
    command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
}

# Tears down every compose project this run started, removes the verify image and the
# untagged intermediate images our builds left (the legacy builder leaves one per stage).
teardown_projects() {
    if ((${#STARTED_PROJECTS[@]})); then
        log "cleaning up"
        local entry p f e
        for entry in "${STARTED_PROJECTS[@]}"; do
            IFS='|' read -r p f e <<<"$entry"
            timeout 120 "${COMPOSE[@]}" --project-name "$p" --env-file "$e" -f "$f" \
                down -v --remove-orphans --timeout 20 >/dev/null 2>&1 ||
                echo "    warning: could not tear down compose project $p" >&2
        done
    fi
    docker image rm -f "$VERIFY_IMAGE" >/dev/null 2>&1
    if ((BUILT)); then
        comm -13 <(printf '%s\n' "$DANGLING_BEFORE") <(docker images -q -f dangling=true | sort -u) |
            xargs -r docker image rm >/dev/null 2>&1
    fi
}

# Builds raftrocks on the host and copies it, without debug info, to deploy/.prebuilt/ for the
# image's BINARY_FROM=prebuilt stage (no registry here: the builder image cannot be pulled).
build_binary() {
    log "building raftrocks on the host (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$REPO_ROOT" && timeout "$CARGO_TIMEOUT" cargo build --release --locked --bin raftrocks) ||
        die "cargo build failed"
    local bin=$CARGO_TARGET_DIR/release/raftrocks
    [[ -x $bin ]] || die "$bin not found after cargo build"
    "$bin" server --help >/dev/null || die "'raftrocks server --help' failed on the host"
    mkdir -p "$DEPLOY_DIR/.prebuilt"
    # Like the Dockerfile's builder stage: drop the debug info (most of the size), keep symbols.
    if command -v objcopy >/dev/null; then
        objcopy --strip-debug "$bin" "$DEPLOY_DIR/.prebuilt/raftrocks"
    else
        cp "$bin" "$DEPLOY_DIR/.prebuilt/raftrocks"
    fi
    chmod 0755 "$DEPLOY_DIR/.prebuilt/raftrocks"
    info "copied to deploy/.prebuilt/raftrocks ($(du -h "$bin" | cut -f1) -> $(du -h "$DEPLOY_DIR/.prebuilt/raftrocks" | cut -f1))"
    info "dynamic libraries: $( (ldd "$bin" 2>/dev/null || true) | awk '{print $1}' | tr '\n' ' ')"
}

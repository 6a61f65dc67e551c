# Shared by scripts/*: installs what building and testing need on a Debian machine, and
# points Cargo at a target directory outside the checkout so rebuilds are incremental.
# shellcheck shell=bash

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/raftrocks-target}"

log() { printf '==> %s\n' "$*" >&2; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]} (apt-get)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# libclang: bindgen in the rocksdb crate; clang/g++: compiling RocksDB itself.
ensure_build_deps() {
    apt_install libclang-dev clang g++ make pkg-config
    if ! command -v cargo >/dev/null; then
        log "cargo not found: install Rust (https://rustup.rs) and re-run"
        exit 1
    fi
}

# redis-server/redis-cli: differential tests and benchmarks run them side by side.
ensure_test_deps() {
    apt_install redis-server redis-tools
}

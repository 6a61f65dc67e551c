#!/usr/bin/env bash
# shellcheck disable=SC2016 # the '$' in the RESP format strings below are literal
# Container health probe for raftrocks. Needs only bash (no redis-cli in the image).
#
# Opens a TCP connection with bash's /dev/tcp, sends PING in RESP and expects +PONG.
# If RAFTROCKS_PASSWORD is set in the container's environment it first sends AUTH.
# A -NOAUTH reply also counts as healthy: the server is up and parsing commands, it
# just wants a password we do not have (e.g. one set with --password or in a --config file).
#
# Overridable: RAFTROCKS_HEALTHCHECK_HOST (default 127.0.0.1),
#              RAFTROCKS_HEALTHCHECK_PORT (default 6379),
#              RAFTROCKS_HEALTHCHECK_TIMEOUT (seconds per reply, default 2).
set -u
export LC_ALL=C # so ${#var} counts bytes, as RESP bulk lengths do

host=${RAFTROCKS_HEALTHCHECK_HOST:-127.0.0.1}
port=${RAFTROCKS_HEALTHCHECK_PORT:-6379}
t=${RAFTROCKS_HEALTHCHECK_TIMEOUT:-2}

exec 3<>"/dev/tcp/${host}/${port}" || { echo "cannot connect to ${host}:${port}"; exit 1; }

if [ -n "${RAFTROCKS_PASSWORD:-}" ]; then
    pw=$RAFTROCKS_PASSWORD
    printf '*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n' "${#pw}" "$pw" >&3
    # The AUTH reply itself does not matter here; the PING reply below decides.
    IFS= read -r -t "$t" reply <&3 || { echo "no reply to AUTH"; exit 1; }
fi

printf '*1\r\n$4\r\nPING\r\n' >&3
IFS= read -r -t "$t" reply <&3 || { echo "no reply to PING"; exit 1; }
reply=${reply%$'\r'}
exec 3>&-

case $reply in
    +PONG* | -NOAUTH*) echo "ok: ${reply}"; exit 0 ;;
    *) echo "unexpected reply to PING: ${reply}"; exit 1 ;;
esac

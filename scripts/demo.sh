#!/usr/bin/env bash
# A throwaway demonstration: start a server and a client on loopback, back up a small tree,
# change a file, back up again, and show what happened. Usage: scripts/demo.sh BIN_DIR
set -euo pipefail
bin="${1:?usage: scripts/demo.sh BIN_DIR}"
bin="$(cd "$bin" && pwd)"

# As root, run inside a private network namespace so not a single packet can leave this machine.
if [ "$(id -u)" -eq 0 ] && [ -z "${FILESYNC_DEMO_NETNS:-}" ] && unshare -n true 2>/dev/null; then
    exec unshare -n env FILESYNC_DEMO_NETNS=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$bin"
fi

work="$(mktemp -d /tmp/filesync-demo.XXXXXX)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A sample tree in $work/source"
mkdir -p "$work/source/docs/2026" "$work/source/photos" "$work/source/empty folder"
echo "meeting notes" > "$work/source/docs/notes.txt"
printf 'line %s\n' $(seq 1 20000) > "$work/source/docs/2026/report.txt"
echo "ünïcödé and spaces" > "$work/source/docs/ünïcödé name.txt"
head -c 2000000 /dev/urandom > "$work/source/photos/holiday.jpg"
: > "$work/source/empty.txt"
(cd "$work/source" && find . -mindepth 1 | sort | sed 's/^/  /')

say "Start the server on loopback (settings as flags; an interactive first run would ask for them)"
mkfifo "$work/server.out"
"$bin/filesync-server" --root "$work/backups" --port 0 --interval 1m --name demo-server \
    --listen 127.0.0.1 --interface 127.0.0.1 --config "$work/server.json" \
    > "$work/server.out" 2> "$work/server.log" < /dev/null &
server_pid=$!
exec 3< "$work/server.out"
read -r -t 30 -u 3 line || { echo "the server did not start"; cat "$work/server.log"; exit 1; }
echo "  $line"
port="$(echo "$line" | sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p')"

say "Discovery: filesync-client --discover (multicast on 127.0.0.1 only)"
"$bin/filesync-client" --discover --interface 127.0.0.1 --discovery-timeout 1s || true

say "First backup: filesync-client --source source --id demo-laptop --secret-file server.secret"
echo "  (the server generated its secret at first start; clients prove they know it, and the id"
echo "   demo-laptop is bound to this client's own key from now on)"
"$bin/filesync-client" --source "$work/source" --id demo-laptop --interface 127.0.0.1 --server "127.0.0.1:$port" \
    --secret-file "$work/server.secret" --key-file "$work/demo-laptop.key"

say "Change one file, add another, back up again"
echo "meeting notes, revised" > "$work/source/docs/notes.txt"
echo "new idea" > "$work/source/docs/idea.txt"
"$bin/filesync-client" --source "$work/source" --id demo-laptop --server "127.0.0.1:$port" --json \
    --secret-file "$work/server.secret" --key-file "$work/demo-laptop.key"

say "The server's copy in $work/backups/demo-laptop"
(cd "$work/backups/demo-laptop" && find . -mindepth 1 | sort | sed 's/^/  /')
if diff -r "$work/source" "$work/backups/demo-laptop" > /dev/null; then
    echo "  identical to the source (diff -r)"
else
    echo "  DIFFERS from the source"; exit 1
fi

say "The server's log"
sed 's/^/  /' "$work/server.log"

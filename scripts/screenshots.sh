#!/usr/bin/env bash
# make screenshots: the status page of a loopback server with a fresh client (desktop, backed up
# three times), a stale one (old-pc, its history aged 3 days: demo data only) and one expected
# but never seen (new-laptop), shot by headless Chromium at desktop and phone width.
# Usage: scripts/screenshots.sh BIN_DIR OUT_DIR
set -euo pipefail
# Everything (server, clients, browser) runs in a network namespace of its own with only loopback
# up: a browser talks to the world on its own (updates, DNS), and the server must not announce.
if [ -z "${FILESYNC_SHOTS_NETNS:-}" ]; then
    exec unshare -n env FILESYNC_SHOTS_NETNS=1 bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
bin="$(cd "${1:?usage: scripts/screenshots.sh BIN_DIR OUT_DIR}" && pwd)"
out="${2:-docs}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
chromium="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$chromium" ] || { echo "screenshots: chromium is not installed (apt-get install chromium)" >&2; exit 1; }

work="$(mktemp -d /tmp/filesync-shots.XXXXXX)"
server_pid=""
cleanup() {
    [ -z "$server_pid" ] || { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_RUNTIME_DIR="$work"

"$bin/filesync-server" --root "$work/root" --port 0 --interval 1h --name shots --listen 127.0.0.1 \
    --no-discovery --http 127.0.0.1:0 --expect new-laptop --config "$work/config/filesync/server.json" \
    > "$work/server.out" 2> "$work/server.log" < /dev/null &
server_pid=$!
for _ in $(seq 1 300); do grep -q "status page" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
web="$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/server.out" | head -1)"
port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/server.out" | head -1 | sed 's/.*://')"
[ -n "$web" ] && [ -n "$port" ] || { cat "$work/server.log" >&2; exit 1; }

backup() { "$bin/filesync-client" --source "$2" --id "$1" --server "127.0.0.1:$port" > /dev/null; }
mkdir -p "$work/desktop" "$work/old-pc"
head -c 3000000 /dev/urandom > "$work/desktop/photos.bin"
printf 'line %s\n' $(seq 1 20000) > "$work/desktop/notes.txt"
head -c 800000 /dev/urandom > "$work/old-pc/mail.bin"
backup desktop "$work/desktop"
head -c 1200000 /dev/urandom > "$work/desktop/photos.bin"
backup desktop "$work/desktop"
printf 'more %s\n' $(seq 1 5000) >> "$work/desktop/notes.txt"
backup desktop "$work/desktop"
backup old-pc "$work/old-pc"
# Demo data: spread the desktop's runs over the last days and age old-pc's by 3 days.
python3 - "$work/root/.filesync/@server/sessions.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT id FROM session WHERE clientId = 'desktop' ORDER BY id").fetchall()
for age, (row,) in zip([9, 4, 0], rows):
    db.execute("UPDATE session SET startedAt = startedAt - ?, endedAt = endedAt - ? WHERE id = ?",
               (age * 86400, age * 86400, row))
db.execute("UPDATE session SET startedAt = startedAt - 259200, endedAt = endedAt - 259200 WHERE clientId = 'old-pc'")
db.commit()
PY
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars)
"$chromium" "${flags[@]}" --window-size=1100,520 --screenshot="$out/status-page.png" "$web" 2>/dev/null
"$chromium" "${flags[@]}" --window-size=390,900 --screenshot="$out/status-page-phone.png" "$web" 2>/dev/null
echo "saved $out/status-page.png and $out/status-page-phone.png"

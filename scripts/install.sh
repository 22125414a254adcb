#!/usr/bin/env bash
# make install: scripts/install.sh BIN_DIR DESTDIR PREFIX UNIT_DIR
# Man pages come from the argument parser's own description of each command
# (--experimental-dump-help, turned into roff by scripts/manpage.py), so they never drift from --help.
set -euo pipefail
bin="$1"; dest="$2"; prefix="$3"; units="$4"
here="$(cd "$(dirname "$0")/.." && pwd)"
for tool in filesync-server filesync-client; do
    [ -x "$bin/$tool" ] || { echo "install: $bin/$tool is not built" >&2; exit 1; }
done
install -d "$dest$prefix/bin" "$dest$prefix/share/man/man1" "$dest$units" \
    "$dest$prefix/share/bash-completion/completions" "$dest$prefix/share/zsh/site-functions" \
    "$dest$prefix/share/fish/vendor_completions.d" "$dest$prefix/lib/sysusers.d"
for tool in filesync-server filesync-client; do
    install -m 0755 "$bin/$tool" "$dest$prefix/bin/$tool"
    "$bin/$tool" --experimental-dump-help | python3 "$here/scripts/manpage.py" --out-dir "$dest$prefix/share/man/man1"
    "$bin/$tool" --generate-completion-script bash > "$dest$prefix/share/bash-completion/completions/$tool"
    "$bin/$tool" --generate-completion-script zsh > "$dest$prefix/share/zsh/site-functions/_$tool"
    "$bin/$tool" --generate-completion-script fish > "$dest$prefix/share/fish/vendor_completions.d/$tool.fish"
done
for unit in filesync-server.service filesync-client@.service filesync-client@.timer; do
    sed -e "s|@BINDIR@|$prefix/bin|g" -e "s|@MANDIR@|$prefix/share/man|g" "$here/dist/systemd/$unit.in" \
        > "$dest$units/$unit"
    chmod 0644 "$dest$units/$unit"
done
install -m 0644 "$here/dist/systemd/filesync.sysusers" "$dest$prefix/lib/sysusers.d/filesync.conf"
echo "installed under $dest$prefix (units in $dest$units)"

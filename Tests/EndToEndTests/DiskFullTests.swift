import Foundation
import Testing

extension EndToEnd {
    /// The server root is a small tmpfs in a private mount namespace (`unshare -m`), so filling it
    /// touches nothing else on the machine.
    @Suite(
        "Disk full",
        .enabled(
            if: Harness.isRoot && Harness.hasUnshare, "needs root for a private mount namespace (unshare -m); skipped"))
    struct DiskFullTests {
        @Test(
            "a file that does not fit, or meets ENOSPC halfway, fails clearly; stored files stay intact; the next run completes"
        )
        func diskFull() throws {
            let work = try TemporaryDirectory("diskfull")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.writeLarge(6 << 20, to: source + "/a.bin", seed: 1)
            let script = #"""
                set -u
                mount -t tmpfs -o size=40m tmpfs "$ROOT" || exit 90
                mkfifo "$WORK/server.out"
                "$SERVER" --root "$ROOT" --port 0 --interval 1h --name full --listen 127.0.0.1 --interface 127.0.0.1 \
                    --no-discovery --config "$WORK/config/filesync/server.json" > "$WORK/server.out" 2> "$WORK/server.log" < /dev/null &
                server=$!
                trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; umount "$ROOT"' EXIT
                exec 3< "$WORK/server.out"
                read -t 30 -u 3 line || exit 91
                endpoint=$(echo "$line" | sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p')
                client() { "$CLIENT" --source "$SOURCE" --id full --server "$endpoint" --retries 0 "$@"; }

                client; echo "FIRST=$?"
                A=$(sha256sum < "$ROOT/full/a.bin")

                # 1. A file larger than the free space is refused before any byte is written.
                head -c 36000000 /dev/urandom > "$SOURCE/too-big.bin"
                client 2> "$WORK/refused.err"; echo "REFUSED=$?"

                # 2. A file that fits when it starts, but the disk fills while it is written.
                rm "$SOURCE/too-big.bin"
                head -c 20000000 /dev/urandom > "$SOURCE/b.bin"
                client --bwlimit 8M 2> "$WORK/enospc.err" &
                sender=$!
                partial="$ROOT/.filesync/full/partial"
                for i in $(seq 1 400); do
                    [ -n "$(find "$partial" -name '*.part' -size +1M 2>/dev/null)" ] && break
                    sleep 0.02
                done
                fallocate -l 28M "$ROOT/filler" 2>/dev/null || head -c 28000000 /dev/zero > "$ROOT/filler"
                wait $sender; echo "ENOSPC=$?"
                [ "$(sha256sum < "$ROOT/full/a.bin")" = "$A" ] && echo "A_INTACT=yes"
                ls "$ROOT/full" > "$WORK/visible.txt"

                # 3. Space freed: the next backup completes.
                rm "$ROOT/filler"
                client; echo "AFTER=$?"
                [ "$(sha256sum < "$ROOT/full/b.bin")" = "$(sha256sum < "$SOURCE/b.bin")" ] && echo "B_STORED=yes"
                """#
            let result = try Command.run(
                "/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/bash", "-c", script], in: work,
                environment: [
                    "WORK": work.path, "SERVER": Harness.server, "CLIENT": Harness.client, "ROOT": root,
                    "SOURCE": source,
                ],
                timeout: 120)
            let output = result.stdout
            let refused = (try? String(contentsOfFile: work.path + "/refused.err", encoding: .utf8)) ?? ""
            let enospc = (try? String(contentsOfFile: work.path + "/enospc.err", encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: work.path + "/server.log", encoding: .utf8)) ?? ""
            #expect(output.contains("FIRST=0"), "\(output)\n\(result.stderr)")
            #expect(output.contains("REFUSED=23"), "\(output)")
            #expect(refused.contains("not enough space"), "\(refused)")
            #expect(output.contains("ENOSPC=23"), "\(output)\n\(enospc)")
            #expect(enospc.contains("No space left on device") || enospc.contains("not enough space"), "\(enospc)")
            #expect(output.contains("A_INTACT=yes"), "\(output)")
            let visible = (try? String(contentsOfFile: work.path + "/visible.txt", encoding: .utf8)) ?? ""
            #expect(visible.split(separator: "\n") == ["a.bin"], "the visible tree holds: \(visible)")
            #expect(output.contains("AFTER=0"), "\(output)")
            #expect(output.contains("B_STORED=yes"), "\(output)")
            #expect(log.contains("No space left on device") || log.contains("not enough space"), "\(log)")
        }
    }
}

import Foundation
import Testing

extension EndToEnd {
    /// Multicast runs only inside a private network namespace (`unshare -n`, loopback up, the
    /// multicast interface set to 127.0.0.1), so no datagram can leave this machine.
    @Suite(
        "Discovery",
        .enabled(
            if: Harness.isRoot && Harness.hasUnshare, "needs root for a private network namespace (unshare -n); skipped"
        ))
    struct DiscoveryTests {
        @Test("a client finds the server by multicast on loopback in a private namespace and backs up through it")
        func discoverAndBackUp() throws {
            let work = try TemporaryDirectory("discovery")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 5)
            let script = """
                set -u
                ip link set lo up
                mkfifo "$WORK/server.out"
                # A passive listener for the server's ANNOUNCE, joined on loopback only, bounded to 20 s.
                # It says READY once it has joined, so the server starts only after that.
                mkfifo "$WORK/listener.out"
                python3 - > "$WORK/listener.out" <<'PY' &
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", 7733))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("239.255.77.33") + socket.inet_aton("127.0.0.1"))
                s.settimeout(20)
                print("READY", flush=True)
                while True:
                    data, _ = s.recvfrom(2048)
                    if data[:4] == b"FSYN" and data[5] == 3:
                        print("ANNOUNCE", data[8:8 + (data[6] << 8 | data[7])].decode(), flush=True)
                        break
                PY
                listener=$!
                exec 4< "$WORK/listener.out"
                read -t 20 -u 4 ready || { echo "listener did not start"; exit 91; }
                "$SERVER" --root "$ROOT" --port 0 --interval 15m --name "lab server" --listen 127.0.0.1 \\
                    --interface 127.0.0.1 --config "$WORK/config/filesync/server.json" --log-level debug > "$WORK/server.out" 2> "$WORK/server.log" < /dev/null &
                server=$!
                trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
                exec 3< "$WORK/server.out"
                read -t 30 -u 3 line || { echo "server did not start"; exit 90; }
                echo "SERVER: $line"
                read -t 10 -u 3 line && echo "FINGERPRINT: ${line##* }"
                # Foreign and malformed datagrams must be ignored, never fatal.
                python3 -c '
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
                for packet in [b"", b"garbage", b"FSYN\\x01\\x01\\xff\\xff", b"FSYN\\x01\\x01\\x00\\x02{}", b"FSYN\\x07\\x01" + bytes(600)]:
                    s.sendto(packet, ("239.255.77.33", 7733))
                '
                read -t 30 -u 4 announce && echo "$announce" > "$WORK/announce.txt"
                wait $listener
                echo "LISTENER_STATUS=$?"
                # A burst of 200 DISCOVERs in well under a second: replies are rate limited (20/s).
                python3 -c '
                import json, socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
                s.bind(("127.0.0.1", 0))
                body = json.dumps({"nonce": "00112233aabbccdd"}).encode()
                packet = b"FSYN" + bytes([1, 1]) + len(body).to_bytes(2, "big") + body
                packet += bytes(512 - len(packet))
                start = time.time()
                for _ in range(200):
                    s.sendto(packet, ("239.255.77.33", 7733))
                sent = time.time() - start
                s.settimeout(0.5)
                replies = 0
                try:
                    while True:
                        s.recvfrom(2048)
                        replies += 1
                except socket.timeout:
                    pass
                print("BURST_REPLIES=%d IN %.2f" % (replies, time.time() - start))
                '
                "$CLIENT" --discover --interface 127.0.0.1 --discovery-timeout 2s --json > "$WORK/discover.json"
                echo "DISCOVER_STATUS=$?"
                "$CLIENT" --source "$SOURCE" --id lab --interface 127.0.0.1 --discovery-timeout 2s --json > "$WORK/backup.json"
                echo "BACKUP_STATUS=$?"
                "$CLIENT" --source "$SOURCE" --id lab --interface 127.0.0.1 --discovery-timeout 1s --retries 0 --server-name "no such server"
                echo "WRONG_NAME_STATUS=$?"
                """
            let result = try Command.run(
                "/usr/bin/unshare", ["-n", "/bin/bash", "-c", script], in: work,
                environment: [
                    "WORK": work.path, "SERVER": Harness.server, "CLIENT": Harness.client, "ROOT": root,
                    "SOURCE": source,
                ],
                timeout: 120)
            let log = (try? String(contentsOfFile: work.path + "/server.log", encoding: .utf8)) ?? ""
            #expect(result.stdout.contains("DISCOVER_STATUS=0"), "\(result.stdout)\n\(result.stderr)\n\(log)")
            #expect(result.stdout.contains("BACKUP_STATUS=0"), "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("WRONG_NAME_STATUS=69"), "\(result.stdout)\n\(result.stderr)")

            let listed =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: work.path + "/discover.json"))) as? [[String: Any]]
            #expect(listed?.count == 1)
            #expect(listed?.first?["name"] as? String == "lab server")
            #expect(listed?.first?["host"] as? String == "127.0.0.1")
            // The OFFER carries the TLS fingerprint the server printed at start.
            let printed = result.stdout.split(separator: "\n").first { $0.hasPrefix("FINGERPRINT: ") }?.split(
                separator: " "
            ).last
            #expect(
                printed != nil && listed?.first?["fingerprint"] as? String == printed.map(String.init),
                "\(result.stdout)")
            let backup =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: work.path + "/backup.json"))) as? [String: Any]
            #expect(backup?["sent"] as? Int == 21)
            #expect(try TreeSnapshot(of: root + "/lab") == TreeSnapshot(of: source))
            #expect(
                log.contains(/group=239.255.77.33:7733 interface=127.0.0.1 .*discovery started/), "\(log)")
            #expect(result.stdout.contains("LISTENER_STATUS=0"), "\(result.stdout)")
            let burst = result.stdout.firstMatch(of: /BURST_REPLIES=([0-9]+) IN ([0-9.]+)/)
            let replies = burst.flatMap { Int($0.1) } ?? -1
            let seconds = burst.flatMap { Double($0.2) } ?? 99
            print("discovery burst: \(replies) replies to 200 DISCOVERs in \(seconds) s")
            // 20 at once plus 20 per second refill: never anywhere near the 200 asked.
            #expect(replies >= 1 && Double(replies) <= 20 + 20 * seconds + 2, "\(replies) replies in \(seconds) s")
            let announce = (try? String(contentsOfFile: work.path + "/announce.txt", encoding: .utf8)) ?? ""
            #expect(announce.contains("\"name\":\"lab server\""), "no ANNOUNCE heard: \(announce)")
            #expect(log.contains("ignoring datagram"), "malformed datagrams were not seen and ignored: \(log)")
        }
    }
}

import Foundation
import Testing

extension EndToEnd {
    /// IPv6 only: a private network namespace (`unshare -n`) whose loopback keeps ::1 and loses
    /// 127.0.0.1, and a veth pair inside it (veth0 for the server, veth1 for the client) with
    /// link-local addresses only. Nothing can leave the namespace.
    @Suite(
        "IPv6",
        .enabled(
            if: Harness.isRoot && Harness.hasUnshare, "needs root for a private network namespace (unshare -n); skipped"
        ))
    struct IPv6Tests {
        @Test("with IPv6 only, discovery finds the server on ff02::7733, and [::1] and [fe80::…%veth1] connect")
        func ipv6Only() throws {
            let work = try TemporaryDirectory("ipv6")
            let root = try work.subfolder("root")
            let source = try work.subfolder("source")
            try SampleTree.make(at: source, folders: 2, subfolders: 2, filesPerFolder: 3)
            let script = """
                set -u
                echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad
                echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad
                ip link set lo up
                ip addr del 127.0.0.1/8 dev lo
                ip link add veth0 type veth peer name veth1
                ip link set veth0 up
                ip link set veth1 up
                for i in $(seq 100); do
                    ip -6 addr show dev veth0 scope link | grep -q fe80 && ip -6 addr show dev veth1 scope link | grep -q fe80 && break
                    sleep 0.1
                done
                echo "IPV4_ADDRESSES=$(ip -4 addr show | grep -c inet)"
                mkfifo "$WORK/server.out"
                "$SERVER" --root "$ROOT" --port 0 --interval 15m --name "six" --listen :: --interface veth0 \\
                    --http off --config "$WORK/config/filesync/server.json" --log-level debug \\
                    > "$WORK/server.out" 2> "$WORK/server.log" < /dev/null &
                server=$!
                trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
                exec 3< "$WORK/server.out"
                read -t 30 -u 3 line || { echo "server did not start"; exit 90; }
                echo "SERVER: $line"
                port=$(echo "$line" | sed -n 's/.*listening on \\[::\\]:\\([0-9]*\\),.*/\\1/p')
                "$CLIENT" --discover --interface veth1 --discovery-timeout 2s --json > "$WORK/discover.json"
                echo "DISCOVER_STATUS=$?"
                "$CLIENT" --source "$SOURCE" --id found --interface veth1 --discovery-timeout 2s --json > "$WORK/found.json"
                echo "FOUND_STATUS=$?"
                "$CLIENT" --source "$SOURCE" --id loopback --server "[::1]:$port" --json > "$WORK/loopback.json"
                echo "LOOPBACK_STATUS=$?"
                address=$(ip -6 addr show dev veth0 scope link | awk '/inet6/ { sub("/.*", "", $2); print $2; exit }')
                "$CLIENT" --source "$SOURCE" --id scoped --server "[$address%veth1]:$port" --json > "$WORK/scoped.json"
                echo "SCOPED_STATUS=$?"
                echo "VETH0=$address"
                """
            let result = try Command.run(
                "/usr/bin/unshare", ["-n", "/bin/bash", "-c", script], in: work,
                environment: [
                    "WORK": work.path, "SERVER": Harness.server, "CLIENT": Harness.client, "ROOT": root,
                    "SOURCE": source,
                ],
                timeout: 180)
            let log = (try? String(contentsOfFile: work.path + "/server.log", encoding: .utf8)) ?? ""
            let context = "\(result.stdout)\n\(result.stderr)\n\(log)"
            #expect(result.stdout.contains("IPV4_ADDRESSES=0"), "\(context)")
            #expect(result.stdout.contains("listening on [::]:"), "\(context)")
            // Discovery names the one group it answers on: the interface has no IPv4 address.
            #expect(result.stdout.contains("discovery on interface veth0 (group [ff02::7733]:7733)"), "\(context)")
            #expect(result.stdout.contains("DISCOVER_STATUS=0"), "\(context)")
            #expect(result.stdout.contains("FOUND_STATUS=0"), "\(context)")
            #expect(result.stdout.contains("LOOPBACK_STATUS=0"), "\(context)")
            #expect(result.stdout.contains("SCOPED_STATUS=0"), "\(context)")
            #expect(log.contains(/group=\[ff02::7733\]:7733 interface=veth0 .*discovery started/), "\(log)")

            let listed =
                try? JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: work.path + "/discover.json"))) as? [[String: Any]]
            let veth0 = result.stdout.firstMatch(of: /VETH0=(\S+)/).map { String($0.1) } ?? "?"
            #expect(listed?.count == 1, "\(context)")
            #expect(listed?.first?["name"] as? String == "six")
            // The OFFER came from the server's link-local address, scoped to the client's interface.
            #expect(listed?.first?["host"] as? String == "\(veth0)%veth1", "\(String(describing: listed))")
            for id in ["found", "loopback", "scoped"] {
                #expect(try TreeSnapshot(of: root + "/" + id) == TreeSnapshot(of: source), "\(id)")
            }
        }

        @Test(
            "dual stack: a server listening on :: answers on both groups (listed once); one on an IPv4 address only on IPv4",
            arguments: ["::", "10.77.0.1"])
        func dualStack(listen: String) throws {
            let work = try TemporaryDirectory("dual-stack")
            let root = try work.subfolder("root")
            let script = """
                set -u
                echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad
                echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad
                ip link set lo up
                ip link add veth0 type veth peer name veth1
                ip addr add 10.77.0.1/24 dev veth0
                ip addr add 10.77.0.2/24 dev veth1
                ip link set veth0 up
                ip link set veth1 up
                for i in $(seq 100); do
                    ip -6 addr show dev veth0 scope link | grep -q fe80 && ip -6 addr show dev veth1 scope link | grep -q fe80 && break
                    sleep 0.1
                done
                mkfifo "$WORK/server.out"
                "$SERVER" --root "$ROOT" --port 0 --interval 15m --name "both" --listen "$LISTEN" --interface veth0 \\
                    --http off --config "$WORK/config/filesync/server.json" --log-level debug \\
                    > "$WORK/server.out" 2> "$WORK/server.log" < /dev/null &
                server=$!
                trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
                exec 3< "$WORK/server.out"
                read -t 30 -u 3 line || { echo "server did not start"; exit 90; }
                echo "SERVER: $line"
                "$CLIENT" --discover --interface veth1 --discovery-timeout 2s --json > "$WORK/discover.json"
                echo "DISCOVER_STATUS=$?"
                "$CLIENT" --discover --interface 10.77.0.2 --discovery-timeout 2s --json > "$WORK/by-address.json"
                echo "BY_ADDRESS_STATUS=$?"
                """
            let result = try Command.run(
                "/usr/bin/unshare", ["-n", "/bin/bash", "-c", script], in: work,
                environment: [
                    "WORK": work.path, "SERVER": Harness.server, "CLIENT": Harness.client, "ROOT": root,
                    "LISTEN": listen,
                ],
                timeout: 120)
            let log = (try? String(contentsOfFile: work.path + "/server.log", encoding: .utf8)) ?? ""
            let context = "\(result.stdout)\n\(result.stderr)\n\(log)"
            // The client connects to an OFFER's source: only families the listener accepts answer.
            let groups = listen == "::" ? "239.255.77.33:7733, [ff02::7733]:7733" : "239.255.77.33:7733"
            #expect(result.stdout.contains("discovery on interface veth0 (group \(groups))"), "\(context)")
            #expect(log.contains(/group=239.255.77.33:7733 interface=10.77.0.1 .*discovery started/), "\(log)")
            #expect(
                log.contains(/group=\[ff02::7733\]:7733 interface=veth0 .*discovery started/) == (listen == "::"),
                "\(log)")
            // Both ends of the pair are in one namespace, where IPv4 drops a datagram whose source
            // address is local: only the IPv6 (link-local, scoped) OFFER can cross, so the client
            // finds the server only when it answers on IPv6.
            guard listen == "::" else { return }
            #expect(result.stdout.contains("DISCOVER_STATUS=0"), "\(context)")
            #expect(result.stdout.contains("BY_ADDRESS_STATUS=0"), "\(context)")
            for file in ["discover.json", "by-address.json"] {
                let listed =
                    try? JSONSerialization.jsonObject(
                        with: Data(contentsOf: URL(fileURLWithPath: work.path + "/" + file))) as? [[String: Any]]
                // One server, though it answered on both groups.
                #expect(listed?.count == 1, "\(file): \(String(describing: listed))")
                #expect(listed?.first?["name"] as? String == "both")
            }
        }
    }
}

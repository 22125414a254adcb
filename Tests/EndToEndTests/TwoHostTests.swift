import Foundation
import Testing

extension EndToEnd {
    /// Two test hosts: network namespaces joined by a veth pair whose addresses exist only inside them.
    @Suite("Two hosts", .enabled(if: Harness.isRoot, "needs root to create network namespaces (ip netns); skipped"))
    struct TwoHostTests {
        @Test(
            "a client finds the server across a link by multicast; the link goes down mid-transfer and the backup completes"
        )
        func linkDownAndUp() throws {
            let work = try TemporaryDirectory("twohost")
            let source = try work.subfolder("source")
            let root = try work.subfolder("root")
            try SampleTree.make(
                at: source, folders: 2, subfolders: 2, filesPerFolder: 5, largeFileBytes: 40 << 20, seed: 8)
            let tag = String(UUID().uuidString.prefix(6)).lowercased()
            let subnet = Int.random(in: 1...250)
            let script = #"""
                set -u
                S=fss$TAG; C=fsc$TAG; VS=vs$TAG; VC=vc$TAG
                SERVER_IP=10.199.$SUBNET.1; CLIENT_IP=10.199.$SUBNET.2
                cleanup() {
                    [ -n "${server:-}" ] && kill $server 2>/dev/null && wait $server 2>/dev/null
                    ip netns del $S 2>/dev/null; ip netns del $C 2>/dev/null
                }
                trap cleanup EXIT
                ip netns add $S && ip netns add $C || exit 90
                ip link add $VS type veth peer name $VC || exit 91
                ip link set $VS netns $S && ip link set $VC netns $C
                ip -n $S addr add $SERVER_IP/24 dev $VS && ip -n $C addr add $CLIENT_IP/24 dev $VC
                for ns in $S $C; do ip -n $ns link set lo up; done
                ip -n $S link set $VS up && ip -n $C link set $VC up

                mkfifo "$WORK/server.out"
                ip netns exec $S "$SERVER" --root "$ROOT" --port 0 --interval 1h --name "far server" --interface $SERVER_IP \
                    --idle-timeout 5s --config "$WORK/config/filesync/server.json" > "$WORK/server.out" 2> "$WORK/server.log" < /dev/null &
                server=$!
                exec 3< "$WORK/server.out"
                read -t 30 -u 3 line || exit 92
                echo "SERVER: $line"

                ip netns exec $C "$CLIENT" --discover --interface $CLIENT_IP --discovery-timeout 3s --json > "$WORK/discover.json"
                echo "DISCOVER=$?"
                ip netns exec $C "$CLIENT" --source "$SOURCE" --id far --interface $CLIENT_IP --discovery-timeout 2s \
                    --bwlimit 10M --timeout 3s --retries 30 --retry-wait 200ms --json > "$WORK/backup.json" 2> "$WORK/client.err" &
                client=$!
                for i in $(seq 1 500); do
                    [ -n "$(find "$ROOT/.filesync/far/partial" -name '*.part' -size +4M 2>/dev/null)" ] && break
                    sleep 0.02
                done
                ip -n $C link set $VC down; echo "LINK=down"
                sleep 4  # the fault: the link stays down for 4 s
                ip -n $C link set $VC up; echo "LINK=up"
                wait $client; echo "BACKUP=$?"
                """#
            let result = try Command.run(
                "/bin/bash", ["-c", script], in: work,
                environment: [
                    "WORK": work.path, "SERVER": Harness.server, "CLIENT": Harness.client, "ROOT": root,
                    "SOURCE": source,
                    "TAG": tag, "SUBNET": "\(subnet)",
                ], timeout: 180)
            let log = (try? String(contentsOfFile: work.path + "/server.log", encoding: .utf8)) ?? ""
            let clientErr = (try? String(contentsOfFile: work.path + "/client.err", encoding: .utf8)) ?? ""
            #expect(result.stdout.contains("DISCOVER=0"), "\(result.stdout)\n\(result.stderr)\n\(log)")
            let listed =
                try? JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: work.path + "/discover.json"))) as? [[String: Any]]
            #expect(listed?.first?["host"] as? String == "10.199.\(subnet).1", "\(String(describing: listed))")
            #expect(result.stdout.contains("LINK=down") && result.stdout.contains("LINK=up"), "\(result.stdout)")
            #expect(result.stdout.contains("BACKUP=0"), "\(result.stdout)\n\(clientErr)\n\(log)")
            #expect(try TreeSnapshot(of: root + "/far") == TreeSnapshot(of: source))
            let summary =
                try? JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: work.path + "/backup.json"))) as? [String: Any]
            print("two hosts: retries \(summary?["retries"] ?? "?"), resumed \(summary?["bytesResumed"] ?? "?") B")
        }
    }
}

/// The socket buffer sizes both v1 peers set on a session's TCP connection (Protocol.md §5.6).
///
/// What a cut connection loses, and must send again, is what was in flight: the writes the
/// sender had queued, its send buffer, the path, and the frame the receiver was reading (the
/// receiver reads what its buffer holds before it sees the cut, so that buffer is not lost).
/// Linux lets an autotuned send buffer grow to 4 MiB. A fixed one of 512 KiB (1 MiB with the
/// kernel's bookkeeping) still covers the bandwidth-delay product of a gigabit LAN (64 KiB at
/// 0.5 ms) many times over; 256 KiB made a loopback transfer 5 to 10% slower and saved nothing
/// measurable at a cut, where the writes queued ahead of the socket were what counted.
public enum SocketBuffers {
    /// `SO_SNDBUF` of the client's connection (the kernel doubles it for its bookkeeping).
    public static let sendBytes = 512 << 10
    /// `SO_RCVBUF` of the server's listening socket, inherited by every connection it accepts.
    public static let receiveBytes = 512 << 10
}

/// The socket buffer sizes both v1 peers set on a session's TCP connection (Protocol.md §5.6).
///
/// What a cut connection loses, and must send again, is what was in flight: the sender's send
/// buffer, the receiver's receive buffer and the frames the receiver had read but not yet stored.
/// Linux lets autotuned buffers grow to 4 MiB (send) and 32 MiB (receive), so a server slowed by
/// its disk could hold many MiB that a cut throws away. Fixed buffers of this size still cover the
/// bandwidth-delay product of a gigabit LAN many times over.
public enum SocketBuffers {
    /// `SO_SNDBUF` of the client's connection (the kernel doubles it for its bookkeeping).
    public static let sendBytes = 512 << 10
    /// `SO_RCVBUF` of the server's listening socket, inherited by every connection it accepts.
    public static let receiveBytes = 512 << 10
}

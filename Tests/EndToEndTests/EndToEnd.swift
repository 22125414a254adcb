import Testing

/// Every end-to-end test starts the real executables. They run one at a time: each starts its own
/// server on 127.0.0.1 with an ephemeral port, and discovery tests run in a private network namespace.
@Suite(.serialized) enum EndToEnd {}

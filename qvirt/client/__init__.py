"""URI parsing, transports, the remote driver and the public API."""

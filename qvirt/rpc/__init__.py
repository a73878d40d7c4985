"""libvirt's remote protocol: XDR codec, protocol tables, framing, streams, keepalive."""

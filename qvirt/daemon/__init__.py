"""qvirtd: listeners, auth, dispatch of RPC procedures to drivers, events, state."""

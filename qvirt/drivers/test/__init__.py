"""The in-memory test driver (test:///default, test:///PATH), as libvirt's src/test holds it."""

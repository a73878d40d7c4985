"""qvirt, the virsh command line, on its own."""

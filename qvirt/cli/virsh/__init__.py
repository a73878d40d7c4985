"""qvirt: the virsh-compatible command line and interactive shell."""

"""qvirt: a libvirt-compatible manager for QEMU/KVM virtual machines."""

__version__ = "0.1.0"

"""Command-line tools: qvirt (virsh), qvirt-builder, and the others."""

"""The QEMU/KVM hypervisor driver: capabilities, command line, processes, QMP, agent."""

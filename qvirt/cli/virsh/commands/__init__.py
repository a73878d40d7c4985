"""virsh's commands, one module per virsh group (virsh-domain.c, virsh-domain-monitor.c,
virsh-host.c, and virsh's own commands in vsh.c/virsh.c)."""

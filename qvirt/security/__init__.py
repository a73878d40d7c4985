"""DAC ownership, the QEMU sandbox, and SELinux/AppArmor labels where the host has them."""

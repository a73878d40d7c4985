"""The storage driver: pools of every type libvirt's storage driver knows, and their volumes."""

"""The remote driver: qvirt's public API over libvirt's remote protocol, to qvirtd or libvirtd."""

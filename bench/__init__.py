"""Side-by-side benchmarks: qvirt beside libvirtd and bare QEMU, in one run, as ratios."""

"""virsh against qvirt: the same command lines, compared byte for byte."""

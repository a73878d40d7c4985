"""``import libvirt`` answered by qvirt: put this directory first on PYTHONPATH to run a
libvirt-python script unchanged against qvirt."""

import sys

import qvirt

sys.modules[__name__] = qvirt

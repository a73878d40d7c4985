"""The network driver: virtual networks (a bridge, a dnsmasq and nftables rules each), and the
host sides of guest NICs (taps, macvtaps) the QEMU driver plugs into them."""

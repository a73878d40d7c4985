"""One abstract interface per object kind, and the drivers that implement them."""

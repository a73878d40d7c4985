"""XML object models: parse, defaults, validate, format. Pure: no I/O, no processes."""

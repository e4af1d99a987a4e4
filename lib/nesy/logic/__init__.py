"""Logic: the crash world, the Conv-LTN model and the first-order query language over its outputs."""

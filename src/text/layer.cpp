// Text layer: placeholder translation unit until the first text module lands.

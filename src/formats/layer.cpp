// Formats layer: placeholder translation unit until the first reader lands.

// Kernels layer: placeholder translation unit until the first kernel lands.

// Image layer: placeholder translation unit until the first image module lands.

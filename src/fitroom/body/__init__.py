"""Body: parametric bodies (Anny), tape-like mesh measurements and synthetic photos."""

"""Super-resolution for product images and VR textures (a plain library)."""

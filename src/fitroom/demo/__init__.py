"""The demo store: brands, size charts, products and rendered product images."""

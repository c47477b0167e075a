"""The shopper's 3D avatar: an Anny body fitted to the measurements, as glTF."""

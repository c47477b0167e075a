"""fitroom: open-source AI fitting room and 3D/VR showroom."""

__version__ = "0.1.0"

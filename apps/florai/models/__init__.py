"""Model artifacts: the network, the manifest, the reference builder and the loader."""

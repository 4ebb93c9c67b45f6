"""Small exporters shipped in the service image for what no upstream exporter provides."""

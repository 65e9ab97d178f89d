"""Registry service: geography and district teams."""

SCHEMA = "registry"
SOURCE = "/warroom/registry"

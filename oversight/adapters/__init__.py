"""Adapters: file formats, the file store and the bulk SQL layer, kept out of `oversight.domain`."""

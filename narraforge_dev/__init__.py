"""Dev-only code: the local stack, operator tools and the in-memory pipeline double. Never shipped in the layer."""

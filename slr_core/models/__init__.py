"""The networks: the hierarchical transformer (``transformer``, built from ``layers``), the invariant
conv net (``convnet``), what both share (``common``: the hands' layout, pooling, the output layer),
their one config (``config``), ``build`` and self-describing checkpoints (``checkpoint``).

May import: base, capture, features.
"""

"""Kaggle-layout datasets on disk (``data``: read, check, split by participant, and build one from
labelled clips) and their memory-mapped cache (``cache``).

May import: base, capture, features, models (the default model's signs for clips without a map).
"""

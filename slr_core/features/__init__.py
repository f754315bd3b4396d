"""What is computed from keypoints: the one preprocessing used by training and inference alike
(``preprocess``), the hands' 3D shape features (``handshape``), the arms' path in the body's frame
(``trajectory``), and the training-time augmentations of raw keypoints (``augment``).

May import: base, capture.
"""

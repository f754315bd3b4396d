"""Video and keypoints: the 543-point MediaPipe layout and the model's 87 points (``landmarks``), the
Keypoints container with its Kaggle parquet form (``keypoints``), MediaPipe Holistic over clips and
single frames (``extract``), and writing video (``videofile``).

May import: base.
"""

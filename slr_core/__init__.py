"""slr_core: the keypoint pipeline, model, training, streaming recogniser and sentence stage.

Data flows one way: frames -> extract -> Keypoints -> features -> model -> streaming -> sentence.
The Streamlit pages and the ``slr`` command only call into that chain.
"""

__version__ = "0.1.0"

"""slr_core: sign-language recognition from keypoints to sentences, in layers.

Data flows one way: frames -> keypoints -> features -> model -> recogniser -> sentence; each
subpackage imports only the ones listed before it (tests/test_layout.py checks this):

    base         errors, settings, safe files, text from a person
    capture      landmarks, keypoints, MediaPipe extraction, video files
    features     the one preprocessing, hand shapes, arm paths, augmentations
    models       the transformer, the conv net, their config, checkpoints
    datasets     Kaggle-layout datasets and their cache
    recognition  classify, stream, personal signs, fingerspelling
    language     signs -> an English sentence
    training     the training loop, fine-tuning, evaluation, protocols, runs
    app          the Streamlit pages' logic (the pages hold UI only)
    cli          the ``slr`` command

A new thing goes in the lowest layer that has everything it needs.
"""

__version__ = "0.1.0"

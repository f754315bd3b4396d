"""From keypoints to signs: the classifier and its open-set rule (``predict``), the streaming
recogniser (``streaming``), personal signs (``library`` stores them, ``matcher`` recognises them),
and fingerspelling (``letters`` reads a hand's letter, ``spelling`` a spelled word).

May import: base, capture, features, models, datasets.
"""

"""From signs to English: the sentence composers (``sentence``: FLAN-T5 where its weights are,
else rules) and the gloss rules (``glosses``).

May import: base, and the layers below it (none needed today).
"""

"""From signs to English: the sentence composers (``sentence``: FLAN-T5 where its weights are, else
the rules, optionally with a small language model choosing among their sentences: ``ranker``); the
rules: the words they know (``lexicon`` with ``lexicon.tsv`` and ``names.txt``), reading a clause of
glosses (``grammar`` into a ``clause.Clause``), writing it in English (``english``, ``nouns``), and
the whole way from keywords to the best few sentences (``glosses``).

May import: base, and the layers below it (it needs none of them today).
"""

"""Making and measuring models: the settings (``config``), the one training loop (``loop`` over a
``trainer``, with ``optim``, ``distributed`` and the data side ``trainset``), the run folder (``runs``), runs started
in their own process (``jobs``), fine-tuning to a personal library (``finetune``), evaluation
(``evaluate``) and the cross-signer protocols (``protocols``).

May import: every layer below (base to language).
"""

"""The foundation: errors every layer raises, the settings read from the environment, safe file
writes, and text from a person made safe (keywords, names).

Imports nothing of slr_core.
"""

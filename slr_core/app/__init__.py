"""The Streamlit app's logic, kept out of the pages: session and URL state (``state``), the shared
page glue (``ui``), the live camera's frame path (``live``) and skeleton drawing (``viz``).

May import: every layer below (base to training).
"""

"""Sign-language recognition: the Streamlit app's entry point (`make run`, or `streamlit run app.py`).

It declares the pages (``ui.PAGES``: app_pages/ holds one file per page, UI only; not "pages/", which
Streamlit would also list on its own) and runs the one the
browser asked for. Every page shares the keywords and the active model through session state,
mirrored into the URL, so a reload keeps them.
"""

import streamlit as st

from slr_core.app import ui

pages = [
    st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url or None, default=not p.url) for p in ui.PAGES
]
st.navigation(pages).run()

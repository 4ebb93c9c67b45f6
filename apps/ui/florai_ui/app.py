"""Streamlit's entry script (``streamlit run``): the whole page lives in florai_ui.page."""

from florai_ui.page import main

main()

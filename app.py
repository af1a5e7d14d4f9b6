"""Agentwatch: placeholder entrypoint until the pages land (issue 3)."""

import streamlit as st

st.title("Agentwatch")
st.write("The data layer is ready: `python -m data_layer summarize SOURCE`.")

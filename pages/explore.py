"""Explore: a notebook of Markdown and SQL cells over the telemetry model, saved and shared by link."""

import streamlit as st

from ui import notebook
from ui.context import context

ctx = context()
st.title("Explore")
notebook.render(ctx)

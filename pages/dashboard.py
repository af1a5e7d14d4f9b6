"""Dashboard: charts pinned from notebook cells, rerun with the global filters."""

import streamlit as st

from ui import notebook_dashboard
from ui.context import context

ctx = context()
st.title("Dashboard")
notebook_dashboard.render(ctx)

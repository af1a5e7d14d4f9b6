"""The app's pages, in menu order: app.py builds the navigation from this list, and the tests and
the benchmark visit each page from it, so a new page is one line here and one file in pages/."""

PAGE_ICONS = {
    "overview": ":material/dashboard:",
    "velocity": ":material/speed:",
    "cost": ":material/payments:",
    "tokens": ":material/token:",
    "latency": ":material/timer:",
    "security": ":material/shield:",
    "sessions": ":material/forum:",
    "explore": ":material/science:",
    "dashboard": ":material/space_dashboard:",
    "data": ":material/database:",
}
"""The file under pages/ (titled as its name, capitalised) and its menu icon."""
PAGES = list(PAGE_ICONS)
TITLES = [name.capitalize() for name in PAGES]

"""Secrets stay secret: a database URL's password is never displayed, logged, used as a readable
cache key or put in the URL, and personal data in prompts is masked unless the user turns it off.

The multi-agent platform's ``api_keys`` table is never read: ``tests/test_source_agent_platform.py``
proves it with a role that may not select from it (``test_a_role_that_cannot_read_api_keys...``).

The password used here needs URL encoding (``/``, ``@``, ``:``, ``?``), so a leak of the encoded
form counts as much as a leak of the plain one.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from tests.browser import chromium_page, expand, settles, visit
from tests.conftest import ROOT
from tests.hostile.server import logged_app_server
from ui import source as app_source
from ui.source import Choice

PASSWORD = "S3cr3t/p@ss:w0rd?z"
LEAKS = (PASSWORD, quote(PASSWORD, safe=""), "S3cr3t")
PII = {
    "email": "ann.smith@example.com",
    "phone": "+44 20 7946 0958",
    "card": "4111 1111 1111 1111",
    "api key": "sk-proj-4fJk29slQpWm83NdXz71Ab",
}
PROMPT = f"Contact {PII['email']} or {PII['phone']}; pay with {PII['card']}; use key {PII['api key']} now."


def with_password(url: str, user: str, password: str = PASSWORD) -> str:
    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def assert_no_leak(text: str, where: str) -> None:
    for secret in LEAKS:
        at = text.find(secret)
        assert at < 0, f"the password is in {where}: ...{text[max(0, at - 300) : at + 100]}..."


@pytest.fixture(scope="module")
def pg_url(canary_postgres) -> str:
    """The session's PostgreSQL canary, read by a role with a password (the URL carries it).

    The test server trusts local connections, so the password is not checked, only carried.
    """
    url = canary_postgres
    role = f"agentwatch_pw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role), PASSWORD))
        con.execute(sql.SQL("grant select on all tables in schema public to {}").format(sql.Identifier(role)))
    yield with_password(url, role)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        con.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def all_rendered(at: AppTest) -> str:
    """Every element's protobuf as text: labels, values, options, help texts, table bytes."""
    parts = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def test_a_url_choice_has_a_masked_label_and_a_key_without_the_password():
    url = f"postgresql://reader:{quote(PASSWORD, safe='')}@db.example:5432/agents"
    choice = app_source._from_location("secrets", url)
    assert choice.label == "postgresql://reader:***@db.example:5432/agents"
    assert choice.key.startswith("url:")
    assert_no_leak(choice.label + choice.key + repr(Choice.__dataclass_fields__), "the label or key")


@pytest.mark.postgres
def test_no_page_shows_the_password_of_the_source_url(pg_url):
    """The pages that show the source's name (Data), its tables and its rows (Sessions, Security)."""
    for page in ("overview", "security", "sessions", "data"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.secrets["connections"] = {"agentwatch": {"url": pg_url}}
        at.session_state["range"] = "All"
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert_no_leak(all_rendered(at), f"the {page} page")
        assert_no_leak(repr(dict(at.query_params)), "st.query_params")
    label = " ".join(m.value for m in at.sidebar.markdown)
    assert "\\*\\*\\*@127" in label  # the masked URL, escaped for Markdown
    assert_no_leak(" ".join(app_source._cache()._entries), "the store cache's keys")


def test_a_typed_url_with_a_password_is_masked_in_errors_and_cleared_from_the_box(tmp_path):
    good = tmp_path / "calls.jsonl"
    good.write_text(
        json.dumps({"timestamp": "2025-01-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 3}) + "\n"
    )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["source_choice"] = Choice("upload", str(good), good.name, "upload:secrets-good")
    at.run()
    typed = f"postgresql://reader:{quote(PASSWORD, safe='')}@127.0.0.1:1/agents"
    at.text_input(key="typed_source").input(typed).run()
    assert not at.exception
    (error,) = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]  # unescape the Markdown
    assert "Connection refused" in error and "reader:***@127.0.0.1:1/agents" in error
    assert at.text_input(key="typed_source").value == ""
    assert_no_leak(all_rendered(at), "the page after a failed typed URL")
    assert_no_leak(repr(dict(at.query_params)), "st.query_params")
    assert at.session_state["source_choice"].label == good.name  # the working source stays


def _pii_export(path: Path) -> Path:
    record = {
        "timestamp": "2025-01-01T00:00:00Z",
        "agent": "support-bot",
        "session_id": "s-1",
        "call_id": "c-1",
        "model": "gpt-4o",
        "input_tokens": 40,
        "output_tokens": 8,
        "prompt": PROMPT,
        "response": f"Sent to {PII['email']}.",
    }
    path.write_text(json.dumps(record) + "\n")
    return path


def test_prompts_on_the_sessions_page_are_masked_until_the_toggle_is_turned_off(tmp_path):
    path = _pii_export(tmp_path / "pii.jsonl")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["source_choice"] = Choice("upload", str(path), path.name, "upload:pii")
    at.session_state["range"] = "All"
    at.session_state["selected_session"] = "s-1"
    at.switch_page("pages/sessions.py").run()
    at.session_state["timeline_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    prompt, response = (t.value for t in at.text)
    for kind, value in PII.items():
        assert value not in prompt + response and f"[{kind}]" in prompt
    assert "[email]" in response
    assert at.sidebar.toggle(key="mask").value is True

    at.sidebar.toggle(key="mask").set_value(False).run()
    assert not at.exception
    prompt, response = (t.value for t in at.text)
    assert prompt == PROMPT and response == f"Sent to {PII['email']}."


@pytest.mark.postgres
@pytest.mark.browser
def test_the_server_log_and_the_browser_never_see_the_password(pg_url, tmp_path_factory):
    """Streamlit's own log at debug level, the page's HTML and its URL, across pages and a bad URL."""
    env = {"AGENTWATCH_DEMO_DIR": str(tmp_path_factory.mktemp("demo")), "STREAMLIT_LOGGER_LEVEL": "debug"}
    with logged_app_server("--source", pg_url, env=env) as (url, log_path), chromium_page(1440, 1600) as page:
        for name in ["Overview", "Cost", "Data"]:
            visit(page, f"{url}/{'' if name == 'Overview' else name.lower()}", name)
            assert page.get_by_test_id("stException").count() == 0
            assert_no_leak(page.content(), f"the HTML of {name}")
            assert_no_leak(page.url, "the page's URL")
        sidebar = page.get_by_test_id("stSidebar")
        assert sidebar.get_by_text("***@127.0.0.1").first.is_visible()
        expand(page, "Change source")
        box = sidebar.get_by_role("textbox", name="SQLite path or database URL")
        box.fill(with_password("postgresql://127.0.0.1:1/agents", "reader"))
        with settles(page, title="Data", text="Connection refused"):
            box.press("Enter")
        refused = page.get_by_test_id("stAlertContentError").filter(has_text="Connection refused")
        assert refused.first.is_visible()
        assert box.input_value() == ""
        assert_no_leak(page.content(), "the HTML after a failed typed URL")
        assert_no_leak(page.url, "the page's URL")
        log = log_path.read_text()
    assert "Runtime state" in log  # the log was captured, at debug level
    assert_no_leak(log, "the server log")


def test_typed_file_paths_can_be_turned_off_for_shared_servers(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("AGENTWATCH_ALLOW_PATHS", "0")
    monkeypatch.setenv("AGENTWATCH_DEMO_DIR", str(tmp_path / "demo"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for typed in ("/etc/passwd", "sqlite:////etc/passwd"):
        at.text_input(key="typed_source").set_value(typed).run()
        assert not at.exception
        assert any("turned off" in e.value for e in at.error), typed
        assert at.session_state["last_good"].origin == "demo"


def test_a_file_that_is_no_export_is_not_quoted_back(tmp_path):
    from data_layer.errors import AgentwatchError
    from data_layer.sources import open_source

    secret = tmp_path / "notes.txt"
    secret.write_text("root:x:0:0:top-secret-line\n")
    with pytest.raises(AgentwatchError) as err:
        open_source(secret)
    assert "top-secret" not in str(err.value) and "root:x" not in str(err.value)

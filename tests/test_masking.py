"""Masking: each pattern masks what it is for, and leaves alone the text that only looks like it."""

from __future__ import annotations

import pandas as pd
import pytest

from data_layer.masking import mask_frame, mask_series, mask_text

MASKED = [
    # e-mail addresses
    ("mail jane.doe+tag@example.co.uk now", "mail [email] now"),
    ("first.last@sub.example.org", "[email]"),
    ("write to me@example.com.", "write to [email]."),
    # phone numbers: international, North American, trunk-prefixed national
    ("+44 20 7946 0958", "[phone]"),
    ("+1 (415) 555-0100", "[phone]"),
    ("call (415) 555-0100 today", "call [phone] today"),
    ("415.555.0100", "[phone]"),
    ("415-555-0100", "[phone]"),
    ("020 7946 0958", "[phone]"),
    # card numbers, 13 to 19 digits, with or without spaces and dashes
    ("4111 1111 1111 1111", "[card]"),
    ("card 4111-1111-1111-1111 exp", "card [card] exp"),
    ("4111111111111111", "[card]"),
    ("378282246310005", "[card]"),
    # API keys and tokens
    ("key sk-abcdefghijklmnop1234", "key [api key]"),
    ("sk-proj-ABCDEFGHIJKLMNOP1234", "[api key]"),
    ("sk_live_abcdefghijklmnop", "[api key]"),
    ("AKIAIOSFODNN7EXAMPLE", "[api key]"),
    ("ghp_" + "a" * 36, "[api key]"),
    ("xoxb-1234567890-abc", "[api key]"),
    ("AIza" + "B" * 35, "[api key]"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop", "Bearer [api key]"),
    # several in one text, each with its own label
    ("jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111", "[email], [phone], [card]"),
]

LEFT_ALONE = [
    # near-miss e-mails
    "user@localhost",
    "a@b.c",
    "x@@y.com",
    "name at example dot com",
    # near-miss phone numbers: short local numbers, dates, versions, addresses, times
    "call 555-0100",
    "on 2024-01-15",
    "version 10.2.3",
    "ip 192.168.100.200",
    "at 12:30:45",
    "order 1234567",
    # near-miss cards: too short, too long
    "411111111111",
    "12345678901234567890",
    # near-miss keys: too short, or a word that merely ends in sk-
    "sk-short",
    "AKIAIOSFODNN7EXAMPL",
    "ghp_" + "a" * 10,
    "task-abcdefghijklmnopqrstu",
    "ask-abcdefghijklmnopqrstuvwxyz",
    "risk-assessment-for-project-x",
    "",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_mask_text_replaces_each_secret_with_its_label(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_mask_text_leaves_text_that_only_looks_like_a_secret(text):
    assert mask_text(text) == text


def test_mask_series_masks_like_mask_text_and_keeps_missing_values_missing():
    texts = [t for t, _ in MASKED] + LEFT_ALONE
    got = mask_series(pd.Series([*texts, None]))
    assert got.iloc[:-1].tolist() == [mask_text(t) for t in texts]
    assert pd.isna(got.iloc[-1])


def test_mask_frame_masks_text_columns_only_and_leaves_the_original_alone():
    frame = pd.DataFrame(
        {"prompt": pd.Series(["jane@example.com"], dtype="string"), "tokens_in": [4111111111111111]}
    )
    masked = mask_frame(frame)
    assert masked["prompt"].tolist() == ["[email]"]
    assert masked["tokens_in"].tolist() == [4111111111111111]
    assert frame["prompt"].tolist() == ["jane@example.com"]

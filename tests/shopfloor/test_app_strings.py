"""Every message the operator app's scripts show is in the page's string table, so it can be translated.

The scripts look their English text up in `<template id="strings">` (`t(...)` in app.js, `text(...)` in
push.js) and fall back to the English: a string missing from the table is silently never translated.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from apps.core.testing import verified_client

SCRIPTS = Path(__file__).resolve().parents[2] / "static" / "shopfloor"
# Written the same in Spanish.
SAME_IN_SPANISH = {"Material", "plan %(time)s"}
LOOKUP = re.compile(r'(?<![\w.])(?:t|text)\(\s*"((?:[^"\\]|\\.)*)"')


def table(page: str) -> dict[str, str]:
    section = re.search(r'<template id="strings">(.*?)</template>', page, re.S)
    assert section, "the page has no string table"
    return {
        html.unescape(key): html.unescape(text)
        for key, text in re.findall(r'<data value="([^"]*)">([^<]*)</data>', section.group(1))
    }


def looked_up(script: str) -> set[str]:
    return {key.replace('\\"', '"') for key in LOOKUP.findall((SCRIPTS / script).read_text())}


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "scripts"), [("/shop/", ("app.js", "push.js")), ("/notifications/", ("push.js",))])
def test_the_page_carries_every_string_its_scripts_show(
    personas: dict[str, Any], url: str, scripts: tuple[str, ...]
) -> None:
    client = verified_client(personas["operator"], Client)
    strings = table(client.get(url).content.decode())

    for script in scripts:
        keys = looked_up(script)
        assert keys, f"no lookups found in {script}: the pattern is out of date"
        assert sorted(keys - strings.keys()) == [], script


@pytest.mark.django_db
def test_the_table_is_translated(personas: dict[str, Any]) -> None:
    client = verified_client(personas["operator"], Client)
    with translation.override("es"):
        strings = table(client.get("/shop/", HTTP_ACCEPT_LANGUAGE="es").content.decode())

    untranslated = sorted(
        key
        for key, text in strings.items()
        if text == key and re.search("[a-z]{3}", key) and key not in SAME_IN_SPANISH
    )
    assert untranslated == []

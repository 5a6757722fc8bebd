"""README.md's requirement summary is the catalog's, rendered."""

import re
from pathlib import Path

from wbemconform.catalog import catalog
from wbemconform.summary import END, START, requirement_summary

README = Path(__file__).resolve().parents[1] / "README.md"


def test_summary_has_a_row_per_requirement_in_catalog_order():
    lines = requirement_summary().splitlines()
    ids = [line.split("|")[1].strip() for line in lines[2:]]
    assert ids == list(catalog())
    assert all(line.count("|") - line.count("\\|") == 7 for line in lines)


def test_readme_holds_exactly_the_rendered_summary():
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, (
        f"README.md has no {START} ... {END} markers around its requirement summary; put "
        "the output of `python -m wbemconform.summary` between them")
    found = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert found, f"{END} must follow {START}"
    assert found.group(1) == requirement_summary(), (
        "README.md's requirement summary is not the catalog's: regenerate it with "
        "`python -m wbemconform.summary`")

"""The requirement summary the README shows: a markdown table rendered from
the catalog (``data/requirements.toml``), so the two cannot drift apart.

``python -m wbemconform.summary`` prints it; tests/test_readme_summary.py
checks that README.md holds exactly this text between the markers
``<!-- catalog:start -->`` and ``<!-- catalog:end -->``.
"""

from __future__ import annotations

from .catalog import catalog

__all__ = ["requirement_summary", "START", "END"]

START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"
_SUBJECTS = {"target": "the target", "profile": "each registered profile",
             "association": "each association class"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def requirement_summary() -> str:
    """The markdown table: one row per catalog requirement, in catalog order."""
    rows = ["| id | level | flavor | checked on | requirement | source |",
            "|---|---|---|---|---|---|"]
    for req in catalog().values():
        level = req.level + (f" ({req.wmi_level} on wmi targets)" if req.wmi_level else "")
        flavor = req.flavor + (" (writes)" if req.writes else "")
        rows.append(f"| {req.id} | {level} | {flavor} | {_SUBJECTS[req.subject]} | "
                    f"{_cell(req.statement)} | {_cell(req.source)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(requirement_summary(), end="")

"""Template hygiene that Django does not check itself."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_template_comment_spans_lines():
    """``{# … #}`` only works on one line: a multi-line one is printed on the page."""
    bad = []
    for path in sorted((ROOT / "templates").rglob("*.html")) + sorted(
        (ROOT / "templates").rglob("*.txt")
    ):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            start = line.find("{#")
            if start != -1 and "#}" not in line[start:]:
                bad.append(f"{path.relative_to(ROOT)}:{number}")
    assert not bad, "use {% comment %} for comments over several lines: " + ", ".join(bad)

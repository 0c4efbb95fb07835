from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from boosts import ics
from boosts.notifications import invitation
from boosts.services import occurrences
from tests.boosts.conftest import paris


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_lines_end_with_crlf_and_are_folded_at_75_octets_without_cutting_characters():
    summary = "Réussir l’entretien annuel : écoute, feedback ; objectifs, et suivi " * 4
    body = ics.calendar(
        [
            ics.Event(
                uid="u1@campus",
                sequence=2,
                start=paris(2026, 6, 1, 10, 0),
                end=paris(2026, 6, 1, 10, 45),
                summary=summary,
            )
        ],
        method="REQUEST",
    )
    assert body.endswith("\r\n")
    assert "\n" not in body.replace("\r\n", "")  # no bare LF
    for line in body.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
        line.encode("utf-8").decode("utf-8")  # each physical line is valid UTF-8
    assert f"SUMMARY:{ics.escape_text(summary)}" in unfold(body)


def test_text_escapes_backslash_semicolon_comma_and_new_lines():
    assert ics.escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_fold_keeps_multibyte_characters_whole():
    line = "DESCRIPTION:" + "é" * 100
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


@pytest.mark.django_db
def test_invitation_has_uid_sequence_method_and_utc_times(boost):
    boost.starts_at = paris(2026, 10, 24, 10, 0)  # summer time: UTC+2
    boost.sequence = 3
    lines = unfold(invitation(boost, email="camille@campus.test"))
    assert lines[0] == "BEGIN:VCALENDAR" and "END:VCALENDAR" in lines
    assert "METHOD:REQUEST" in lines
    assert f"UID:boost-{boost.uid}@campus" in lines
    assert "SEQUENCE:3" in lines
    assert "DTSTART:20261024T080000Z" in lines
    assert "DTEND:20261024T084500Z" in lines
    assert "STATUS:CONFIRMED" in lines
    assert any(line.startswith("ORGANIZER;CN=") for line in lines)
    assert "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:camille@campus.test" in lines


@pytest.mark.django_db
def test_cancellation_keeps_uid_and_says_cancel(boost):
    lines = unfold(invitation(boost, email="c@campus.test", cancelled=True))
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines
    assert f"UID:boost-{boost.uid}@campus" in lines
    assert "BEGIN:VALARM" not in lines


def test_weekly_series_keeps_paris_wall_clock_across_the_october_change():
    starts = occurrences(paris(2026, 10, 20, 10, 0), repeat="weekly", count=2)
    assert [s.astimezone(paris(2026, 1, 1).tzinfo).hour for s in starts] == [10, 10]
    assert ics.utc(starts[0]) == "20261020T080000Z"  # CEST
    assert ics.utc(starts[1]) == "20261027T090000Z"  # CET
    assert starts[1].astimezone(UTC) - starts[0].astimezone(UTC) == timedelta(days=7, hours=1)


def test_monthly_series_across_the_march_change_and_short_months():
    starts = occurrences(paris(2027, 1, 31, 9, 30), repeat="monthly", count=3)
    assert [ics.utc(s) for s in starts] == [
        "20270131T083000Z",
        "20270228T083000Z",  # clamped to the last day of February
        "20270331T073000Z",  # summer time from 28 March
    ]

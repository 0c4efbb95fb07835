"""A small, strict iCalendar (RFC 5545) writer for boost invitations and calendar feeds.

Times are written in UTC with a ``Z`` (no VTIMEZONE needed; calendar apps show them in the
reader's zone, DST included). Text values escape ``\\ ; ,`` and new lines; content lines are
folded at 75 octets without cutting a UTF-8 character; lines end with CRLF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//Campus des managers//Boosts//FR"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold one content line: at most 75 octets per line, continuations start with a space."""
    out: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class Event:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    location: str = ""
    url: str = ""
    organizer_email: str = ""
    organizer_name: str = ""
    attendee_email: str = ""
    cancelled: bool = False
    stamp: datetime | None = None


def _mailto(name: str, email: str) -> str:
    # A parameter value with , ; : must be quoted; quotes themselves are not allowed inside.
    cn = name.replace('"', "'")
    return f'CN="{cn}":mailto:{email}' if cn else f":mailto:{email}"


def _event_lines(event: Event) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{utc(event.stamp or datetime.now(UTC))}",
        f"DTSTART:{utc(event.start)}",
        f"DTEND:{utc(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.organizer_email:
        lines.append("ORGANIZER;" + _mailto(event.organizer_name, event.organizer_email))
    if event.attendee_email:
        lines.append(
            "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT="
            + ("DECLINED" if event.cancelled else "ACCEPTED")
            + f":mailto:{event.attendee_email}"
        )
    if not event.cancelled:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT15M",
            f"DESCRIPTION:{escape_text(event.summary)}",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, method: str | None = None, name: str = "") -> str:
    """A VCALENDAR; ``method`` is REQUEST or CANCEL for an invitation, None for a feed."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for event in events:
        lines += _event_lines(event)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)

"""The live room's fast path: answer the participants' polls from Redis alone.

Five hundred people in a room poll two fragments every 3 seconds (about 333 requests/s).
Through the whole Django stack a poll costs two database queries (the session's user, the
boost with its audience) before the view can even say "nothing changed". This middleware,
first in ``MIDDLEWARE``, answers those polls with one or two Redis round trips and no
database access:

- *proof of access*: the room page gives each participant a signed *pass* (sent by htmx in
  the ``X-Live-Pass`` header) naming the boost, the person, a digest of their session key and
  the room's opening window. It is issued only after the full access check (the audience) and
  expires after ``PASS_MAX_AGE``;
- *the session is alive*: the session (``cached_db`` engine) is read from the cache in the
  same round trip as the room's versions, and must belong to the person named by the pass.
  A logged-out session is gone from the cache, so its next poll takes the normal path;
- *what it answers*: 304 when the versions match the ETag the browser sent (the same ETag the
  views compute); for the questions fragment a 200 with the shared HTML cached by the view
  for this version, personalised with the person's own votes (cached per person and vote
  version); for the poll fragment the person's own part (form and answer, cached per person
  and versions) with the shared results (cached per answers version). While a new version is not rendered yet, the last fragment rendered is
  served with its own version's ETag if it is at most ``LIVE_STALE_SECONDS`` old, so a busy
  room (a vote every few milliseconds) renders about once a second, not once per vote.
  Anything else (no pass, a stale pass, a cache miss, a host) goes through the normal
  stack, which answers the same thing more slowly and fills the cache.

What the fast path cannot see on its own, such as an account deactivated, a password changed
(which ends the person's other sessions) or a boost cancelled, it learns within
``PASS_FRESH_SECONDS``: a pass older than that takes the full stack, whose checks answer 404
or send to the login page, or else renew the pass in the ``X-Live-Pass`` response header
(``static/js/boosts.js`` puts it in the room's ``hx-headers``). With 500 people that is about
four full-stack polls a second. Votes and questions are posts and always take the full path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils import timezone

from boosts import services

#: How long a room pass lets polls skip the full stack; then the full path checks access again
#: and renews it.
PASS_FRESH_SECONDS = 120
#: How long after it was issued a pass may still be renewed: past that the page must be
#: reloaded (a boost with its opening window fits in it).
PASS_MAX_AGE = 6 * 60 * 60
PASS_SALT = "boosts.live.pass"  # noqa: S105 (a signing salt, not a secret)
PASS_HEADER = "HTTP_X_LIVE_PASS"  # noqa: S105 (a header name)
RENEWED_HEADER = "X-Live-Pass"
_PATH = re.compile(r"^/boosts/(\d+)/live/(updates|questions|poll)/$")
# The key under which the cached_db session engine keeps a session (see Django's engine).
_SESSION_CACHE_PREFIX = "django.contrib.sessions.cached_db"


def session_digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:24]


def room_pass(*, boost_id: int, user_id: int, session_key: str, opens: float, closes: float) -> str:
    """The signed pass a participant's page sends with its polls."""
    payload = {"b": boost_id, "u": user_id, "s": session_digest(session_key), "w": [opens, closes]}
    return signing.dumps(payload, salt=PASS_SALT, compress=False)


def _pass_payload(raw: str, max_age: int | None = None) -> dict | None:
    try:
        data = signing.loads(
            raw, salt=PASS_SALT, max_age=PASS_FRESH_SECONDS if max_age is None else max_age
        )
    except signing.BadSignature:  # includes an expired pass
        return None
    return data if isinstance(data, dict) else None


def _with_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def fast_answer(request: HttpRequest) -> HttpResponse | None:
    """The response for a participant's poll, or ``None`` to go through the full stack."""
    match = _PATH.match(request.path_info)
    if not match or "HTTP_HX_REQUEST" not in request.META:
        return None
    data = _pass_payload(request.META[PASS_HEADER])
    boost_id = int(match[1])
    if data is None or data.get("b") != boost_id:
        return None
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if not session_key or data.get("s") != session_digest(session_key):
        return None
    user_id = data["u"]
    cache = caches[settings.SESSION_CACHE_ALIAS]
    session_cache_key = _SESSION_CACHE_PREFIX + session_key
    version_keys = services.live_version_keys(boost_id, user_id)
    found = cache.get_many([*version_keys, session_cache_key])
    session = found.get(session_cache_key)
    if not isinstance(session, dict) or str(session.get(SESSION_KEY)) != str(user_id):
        return None
    if any(found.get(key) is None for key in version_keys):
        return None  # the view seeds missing counters
    questions, poll, mine, results = (int(found[key]) for key in version_keys)
    now = timezone.now().timestamp()
    opens, closes = data["w"]
    open_now = opens <= now <= closes
    sent = request.headers.get("If-None-Match", "")
    parts = ("questions", "poll") if match[2] == "updates" else (match[2],)

    # Nothing changed: 304 from the versions alone.
    current = {
        "questions": services.live_questions_etag(
            questions=questions, mine=mine, user_id=user_id, manage=False, open_now=open_now
        ),
        "poll": services.live_poll_etag(poll=poll, results=results, mine=mine, user_id=user_id),
    }
    etag = services.live_etag_join([current[part] for part in parts])
    if etag in sent:
        return _with_headers(HttpResponseNotModified(), etag)

    # Else the HTML from the cache, in one more round trip.
    keys = {
        "q_html": services.live_questions_html_key(boost_id, questions, open_now),
        "q_latest": services.live_questions_latest_key(boost_id, open_now),
        "votes": services.live_votes_key(boost_id, user_id, mine),
        "p_shell": services.live_poll_shell_key(boost_id, user_id, poll, mine),
        "p_results": services.live_poll_results_key(boost_id, poll, results),
        "p_latest": services.live_poll_results_latest_key(boost_id, poll),
    }
    needs = {
        "questions": ("q_html", "q_latest", "votes"),
        "poll": ("p_shell", "p_results", "p_latest"),
    }
    got = caches["default"].get_many([keys[name] for part in parts for name in needs[part]])
    cached = {name: got.get(key) for name, key in keys.items()}
    built = []
    for part in parts:
        if part == "questions":
            piece = _questions_part(user_id, questions, mine, open_now, now, cached)
        else:
            piece = _poll_part(user_id, poll, results, mine, now, cached)
        if piece is None:
            return None
        built.append(piece)
    etag = services.live_etag_join([piece[0] for piece in built])
    if etag in sent:
        return _with_headers(HttpResponseNotModified(), etag)
    if len(built) == 1:
        return _with_headers(HttpResponse(built[0][1]), etag)
    return _with_headers(HttpResponse(services.live_updates_html([p[1] for p in built])), etag)


def _recent(latest: tuple | None, version: int, now: float) -> bool:
    """Whether the last render of a region may stand in for the current version."""
    return bool(latest) and now - latest[1] <= services.LIVE_STALE_SECONDS and latest[0] <= version


def _questions_part(
    user_id: int, questions: int, mine: int, open_now: bool, now: float, cached: dict
) -> tuple[str, str] | None:
    """(ETag, HTML) of the questions fragment from the cache, or ``None``. While the current
    version is not rendered yet, the last render if recent, under its own version's ETag
    (the next poll asks again)."""
    if cached["votes"] is None:
        return None
    html, version = cached["q_html"], questions
    if html is None:
        if not _recent(cached["q_latest"], questions, now):
            return None
        version, _rendered_at, html = cached["q_latest"]
    etag = services.live_questions_etag(
        questions=version, mine=mine, user_id=user_id, manage=False, open_now=open_now
    )
    return etag, services.live_questions_personalise(html, cached["votes"])


def _poll_part(
    user_id: int, poll: int, results: int, mine: int, now: float, cached: dict
) -> tuple[str, str] | None:
    """(ETag, HTML) of the poll fragment: the person's cached part with the shared results
    (or the last results rendered, if recent)."""
    shell = cached["p_shell"]
    if shell is None:
        return None
    if services.POLL_RESULTS_SLOT not in shell:
        etag = services.live_poll_etag(poll=poll, results=results, mine=mine, user_id=user_id)
        return etag, shell
    shared, version = cached["p_results"], results
    if shared is None:
        if not _recent(cached["p_latest"], results, now):
            return None
        version, _rendered_at, shared = cached["p_latest"]
    etag = services.live_poll_etag(poll=poll, results=version, mine=mine, user_id=user_id)
    return etag, shell.replace(services.POLL_RESULTS_SLOT, shared)


class LiveRoomFastPath:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if PASS_HEADER in request.META and request.method == "GET":
            response = fast_answer(request)
            if response is not None:
                response["X-Live-Fast"] = "1"  # counted by bench/bench_boosts.py
                return response
            response = self.get_response(request)
            renewed = renewed_pass(request, response)
            if renewed:
                response[RENEWED_HEADER] = renewed
            return response
        return self.get_response(request)


def renewed_pass(request: HttpRequest, response: HttpResponse) -> str:
    """A fresh pass for a poll the full stack has just answered, when the pass it carried is
    no longer fresh: the view's access check passed (200 or 304; an outsider gets 404, a
    logged-out session a redirect), for the same person, boost and session. The opening
    window is the old pass's."""
    match = _PATH.match(request.path_info)
    if not match or response.status_code not in (200, 304):
        return ""
    raw = request.META[PASS_HEADER]
    if _pass_payload(raw) is not None:
        return ""  # still fresh: the full path was taken for another reason (a cache miss)
    data = _pass_payload(raw, PASS_MAX_AGE)
    user = getattr(request, "user", None)
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if (
        data is None
        or user is None
        or not user.is_authenticated
        or data.get("u") != user.pk
        or data.get("b") != int(match[1])
        or not session_key
        or data.get("s") != session_digest(session_key)
    ):
        return ""
    opens, closes = data["w"]
    return room_pass(
        boost_id=data["b"], user_id=user.pk, session_key=session_key, opens=opens, closes=closes
    )

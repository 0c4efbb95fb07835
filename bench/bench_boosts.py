"""Benchmark of the boosts live room: N participants polling every 3 s, plus questions and
votes, against a real gunicorn server on 127.0.0.1 and the embedded PostgreSQL and Redis.

    make bench-boosts BENCH_ARGS="--participants 500 --seconds 150 --ramp 60"
    CAMPUS_DATA_DIR=/tmp/bench-x .venv/bin/python bench/bench_boosts.py \
        [--participants 500 --seconds 60 --ramp 60 --workers 4 --threads 1 --interval 3]
        [--results-shown --reanswer 0.05] [--no-pass] [--priority] [--pin]

What one simulated participant does, like the browser with htmx: it enters the room (the
full page, which carries the room pass), then every ``--interval`` seconds it GETs the
room's single poll (``/live/updates/``: the questions and the poll regions together) with
the pass and the ETag it last received (``If-None-Match``), and takes the renewed pass the
server sends every couple of minutes. Each cycle it also posts a question with probability
``--ask``, votes for a random question with probability ``--vote``, answers the open poll
once (and changes its answer with probability ``--reanswer``). ``--results-shown`` puts the
poll's results on everyone's screen, so that answers change everyone's fragment.
Participants join spread over ``--ramp`` seconds; figures are taken over ``--seconds`` of
steady state once everyone is in the room: requests/s sustained, latency p50/p95/p99 per
kind, 200/304 split and how many the fast path answered (``boosts/middleware.py``), errors
(any status other than 200/302/304 or a transport error, over the whole run), CPU by
process group.

Each participant is one HTTP/1.1 connection (``Browser``: keep-alive when the server allows
it, cookies), written on asyncio streams so that the generator costs little of the cores it
shares with the server. ``--priority`` runs the bench's processes before any other work on
the machine; ``--pin`` gives the server one core and the generator the other.

Works in its own database (``campus_bench_boosts`` on the embedded server); each run deletes
the previous run's organisation. Sessions are created directly (no password hashing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_django_setup  # noqa: E402

ORG_SLUG = "bench-boosts"
#: Scheduling priority with ``--priority`` (negative: before the machine's other processes).
PRIORITY = -10


def seed(participants: int, results_shown: bool) -> tuple[int, list[str], list[int], int]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from boosts import services
    from boosts.models import Boost, Registration
    from campus.models import Branch, Level, Organisation, Organism, Role, User

    call_command("migrate", verbosity=0)
    old = Organisation.objects.filter(slug=ORG_SLUG).first()
    if old is not None:
        Boost.objects.filter(organisation=old).delete()
        User.objects.filter(organisation=old).delete()
        Organism.objects.filter(organisation=old).delete()
        Branch.objects.filter(organisation=old).delete()
        old.delete()
    org = Organisation.objects.create(name="Bench boosts", slug=ORG_SLUG)
    unusable = make_password(None)
    branch = Branch.objects.create(organisation=org, code="maladie", name="Maladie")
    organism = Organism.objects.create(organisation=org, branch=branch, code="cpam", name="CPAM")
    host = User.objects.create_user(
        "host@bench-boosts.test",
        None,
        organisation=org,
        organism=organism,
        roles=[Role.MANAGER, Role.BOOST_HOST],
        level=Level.MIDDLE,
    )
    users = User.objects.bulk_create(
        User(
            email=f"p{i}@bench-boosts.test",
            organisation=org,
            organism=organism,
            roles=[Role.MANAGER],
            level=Level.PROXIMITY,
            password=unusable,
        )
        for i in range(participants)
    )
    boost = Boost.objects.create(
        organisation=org,
        host=host,
        title="Bench",
        description="Bench",
        starts_at=timezone.now() - timedelta(minutes=5),
        duration_minutes=240,
        capacity=participants + 10,
        meeting_url="https://teams.example.test/bench",
    )
    now = timezone.now()
    Registration.objects.bulk_create(
        Registration(boost=boost, user=u, status="confirmed", checked_in_at=now) for u in users
    )
    poll = services.poll_create(
        boost=boost, kind="single", prompt="Bench ?", options=["A", "B", "C"]
    )
    services.poll_launch(poll=poll)
    if results_shown:
        services.poll_results_show(poll=poll, shown=True)
    for i in range(20):
        services.question_ask(boost=boost, user=users[i], body=f"Question de départ {i}")
    cookies = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies.append(store.session_key)
    option_ids = list(poll.options.values_list("pk", flat=True))
    return boost.pk, cookies, option_ids, poll.pk


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, threads: int, pin: int | None = None) -> subprocess.Popen:
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": settings.REDIS_URL,
        "CAMPUS_DEV": "1",
        "DEBUG": "0",
        "CAMPUS_STATIC_MANIFEST": "0",
        "CAMPUS_LOG_LEVEL": "WARNING",
    }
    cmd = [
        *(["taskset", "-c", str(pin)] if pin is not None else []),
        sys.executable,
        "-m",
        "gunicorn",
        # The production settings (timeouts, keep-alive, worker recycling), then the bench's.
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "campus.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--access-logfile",
        "/dev/null",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


class Browser:
    """One participant's HTTP/1.1 connection to the server, like a browser tab: keep-alive
    when the server allows it (a new connection when it closes one), cookies, ``Content-
    Length`` or chunked bodies. Written on asyncio streams rather than a full HTTP client so
    that the load generator, on the same 2 cores as the server, costs tens of microseconds
    per request instead of about a millisecond.

    Like a browser, a request sent on a kept-alive connection that the server closed just
    before (no byte of answer) is sent again once on a new connection; such resends are
    counted and reported."""

    def __init__(self, host: str, port: int, cookies: dict[str, str], stats: dict) -> None:
        self.host, self.port, self.cookies, self.stats = host, port, dict(cookies), stats
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], data: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        body = urlencode(data).encode() if data is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if method == "POST":
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        reused = self.writer is not None
        try:
            return await self._exchange(raw, method)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self.close()
            if not reused or getattr(exc, "partial", b""):
                raise
            self.stats["resent"] += 1
            return await self._exchange(raw, method)

    async def _exchange(self, raw: bytes, method: str) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.cookies[key.strip()] = val.strip()
            headers[name] = value
        if status in (204, 304) or method == "HEAD":
            body = b""
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(c[:-2] for c in chunks)
        else:
            body = await self.reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close" or status_line.startswith("HTTP/1.0"):
            await self.close()
        return status, headers, body


async def participant(
    i: int,
    port: int,
    boost_id: int,
    session: str,
    option_ids: list[int],
    poll_id: int,
    args: argparse.Namespace,
    stats: dict,
    deadline: float,
    question_ids: list[int],
) -> None:
    rng = random.Random(i)
    client = Browser("127.0.0.1", port, {"sessionid": session}, stats)
    base = f"http://127.0.0.1:{port}"
    # People join over the ramp (entering the room renders the full page), like a room
    # filling up in the minutes before the start.
    await asyncio.sleep(rng.random() * args.ramp)
    status, _headers, page_bytes = await client.request("GET", f"/boosts/{boost_id}/live/", {})
    if status != 200:
        stats["samples"].append((time.monotonic(), "join", status, 0.0, False))
        return
    page = page_bytes.decode()
    stats["joins"].append(time.monotonic())
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    token = match.group(1) if match else ""
    headers = {"X-CSRFToken": token, "HX-Request": "true", "Referer": base + "/"}
    # The room pass that htmx sends with every poll (see boosts/middleware.py).
    found = re.search(r'"X-Live-Pass": "([^"]+)"', page)
    poll_headers = {"HX-Request": "true"}
    if found and not args.no_pass:
        poll_headers["X-Live-Pass"] = found.group(1)
    etags: dict[str, str] = {}
    answered = False
    while time.monotonic() < deadline:
        cycle = time.monotonic()
        await request(
            client,
            "GET",
            f"/boosts/{boost_id}/live/updates/",
            "updates",
            stats,
            headers={
                **poll_headers,
                **({"If-None-Match": etags["updates"]} if "updates" in etags else {}),
            },
            etags=etags,
            renew=poll_headers,
        )
        if rng.random() < args.ask:
            await request(
                client,
                "POST",
                f"/boosts/{boost_id}/live/ask/",
                "ask",
                stats,
                headers=headers,
                data={"body": f"Question {i}-{rng.random():.4f}"},
            )
        if rng.random() < args.vote and question_ids:
            q = rng.choice(question_ids)
            await request(
                client,
                "POST",
                f"/boosts/questions/{q}/vote/",
                "vote",
                stats,
                headers=headers,
                data={},
            )
        if not answered or rng.random() < args.reanswer:
            await request(
                client,
                "POST",
                f"/boosts/polls/{poll_id}/answer/",
                "answer",
                stats,
                headers=headers,
                data={"option": str(rng.choice(option_ids))},
            )
            answered = True
        await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - cycle)))
    await client.close()


async def request(
    client, method, url, kind, stats, *, headers, data=None, etags=None, renew=None
) -> None:
    start = time.perf_counter()
    try:
        status, response_headers, _body = await client.request(method, url, headers, data)
        fast = response_headers.get("x-live-fast") == "1"
        if etags is not None and status == 200 and "etag" in response_headers:
            etags[kind] = response_headers["etag"]
        if renew is not None and "x-live-pass" in response_headers:
            # The pass renewed by the full path every couple of minutes, as boosts.js does.
            renew["X-Live-Pass"] = response_headers["x-live-pass"]
            stats["renewed"] += 1
    except Exception as exc:  # noqa: BLE001 (counted as an error)
        status = f"error:{exc.__class__.__name__}"
        fast = False
        await client.close()
    elapsed = (time.perf_counter() - start) * 1000
    stats["samples"].append((time.monotonic(), kind, status, elapsed, fast))


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prioritise(*pids: int) -> None:
    """Give these processes the ``PRIORITY`` nice value, and their scheduling autogroups too:
    with autogroups (Linux's default for desktop and many server kernels), nice values only
    rank processes of the same session, and each session gets an equal share of the cores."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, PRIORITY)
        with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as group:
            group.write(str(PRIORITY))


def our_services() -> list:
    """This data directory's PostgreSQL (postmaster) and Redis processes."""
    import psutil

    from campus import embedded

    ours = str(embedded.data_dir())
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(ours in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def cpu_sample(server_pid: int, services: list) -> dict[str, dict[int, float]]:
    """CPU seconds used so far, per process, by group: this load generator, the gunicorn
    processes, this data directory's PostgreSQL (with its backends) and Redis; and the whole
    machine's busy time (pid 0). Only these processes are read (a scan of every process on
    the machine each second would itself cost the generator a few per cent of a core)."""
    import psutil

    def times(procs) -> dict[int, float]:
        out = {}
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                out[proc.pid] = t.user + t.system
        return out

    def tree(root) -> list:
        with contextlib.suppress(psutil.Error):
            return [root, *root.children(recursive=True)]
        return []

    groups = {
        "generator": times([psutil.Process()]),
        "gunicorn": times(tree(psutil.Process(server_pid))),
        "db+cache": times([p for service in services for p in tree(service)]),
    }
    machine = psutil.cpu_times()
    groups["machine"] = {0: sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)}
    return groups


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples (processes started in between count from zero)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


async def cpu_sampler(server_pid: int, stats: dict, deadline: float) -> None:
    services = our_services()
    while time.monotonic() < deadline:
        stats["cpu"].append((time.monotonic(), cpu_sample(server_pid, services)))
        await asyncio.sleep(1.0)


async def run(
    args: argparse.Namespace,
    port: int,
    boost_id: int,
    sessions,
    option_ids,
    poll_id,
    question_ids,
    server_pid: int,
):
    stats = {"samples": [], "joins": [], "cpu": [], "resent": 0, "renewed": 0}
    start = time.monotonic()
    deadline = start + args.ramp + args.interval + args.seconds
    await asyncio.gather(
        cpu_sampler(server_pid, stats, deadline),
        *(
            participant(
                i, port, boost_id, s, option_ids, poll_id, args, stats, deadline, question_ids
            )
            for i, s in enumerate(sessions)
        ),
    )
    return stats, time.monotonic() - start


def sequential(port: int, boost_id: int, session: str, n: int = 30) -> str:
    """Latency of the polling fragments for one client alone (no load), full and 304."""
    import httpx

    out = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"sessionid": session}) as c:
        page = c.get(f"/boosts/{boost_id}/live/").text
        found = re.search(r'"X-Live-Pass": "([^"]+)"', page)
        room_pass = {"X-Live-Pass": found.group(1)} if found else {}
        url = f"/boosts/{boost_id}/live/questions/"
        for label, extra, fast in (
            ("200 full stack", False, False),
            ("304 full stack", True, False),
            ("304 fast path", True, True),
        ):
            times = []
            headers = {"HX-Request": "true", **(room_pass if fast else {})}
            etag = c.get(url, headers=headers).headers.get("etag", "")
            for _ in range(n):
                start = time.perf_counter()
                c.get(url, headers={**headers, **({"If-None-Match": etag} if extra else {})})
                times.append((time.perf_counter() - start) * 1000)
            out.append(f"{label}: p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms")
    return "; ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=60, help="steady state measured")
    parser.add_argument("--ramp", type=float, default=60.0, help="joins spread over this")
    parser.add_argument("--no-pass", action="store_true", help="polls without the room pass")
    parser.add_argument(
        "--results-shown", action="store_true", help="poll results on screen while answering"
    )
    parser.add_argument("--reanswer", type=float, default=0.0, help="change one's poll answer")
    parser.add_argument(
        "--pin", action="store_true", help="server, database and cache on core 0, load on core 1"
    )
    parser.add_argument(
        "--priority",
        action="store_true",
        help=f"run the server, database, cache and generator at nice {PRIORITY} (needs root): "
        "on a machine busy with other work, they get the cores first",
    )
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ask", type=float, default=0.01)
    parser.add_argument("--vote", type=float, default=0.05)
    parser.add_argument("--use-database-url", action="store_true")
    args = parser.parse_args()
    bench_django_setup(
        database="campus_bench_boosts",
        allow_database_url=args.use_database_url,
        refusal="DATABASE_URL is set: pass --use-database-url to write bench data there.",
    )
    t0 = time.perf_counter()
    boost_id, sessions, option_ids, poll_id = seed(args.participants, args.results_shown)
    print(f"seeded {args.participants} participants in {time.perf_counter() - t0:.1f} s")
    port = free_port()
    if args.priority:
        # Before the server starts, so that gunicorn and its workers inherit it.
        prioritise(os.getpid())
    server = start_server(port, args.workers, args.threads, 0 if args.pin else None)
    if args.priority:
        prioritise(server.pid)
        for service in our_services():
            # This data directory's PostgreSQL (with its backends, present and future: they
            # are forked from the postmaster) and Redis.
            prioritise(service.pid, *(c.pid for c in service.children(recursive=True)))
    if args.pin:
        # The web server, PostgreSQL and Redis on core 0; this load generator on core 1: the
        # figures are then those of a one-core server, apart from the generator's own cost.
        import psutil

        for service in our_services():
            # This data directory's PostgreSQL (with its backends) and Redis.
            for p in [service, *service.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    p.cpu_affinity([0])
        os.sched_setaffinity(0, {1})
    try:
        from boosts.models import Question

        print(f"one client alone, sequential: {sequential(port, boost_id, sessions[0])}")

        question_ids = list(Question.objects.filter(boost_id=boost_id).values_list("pk", flat=True))
        stats, wall = asyncio.run(
            run(
                args,
                port,
                boost_id,
                sessions,
                option_ids,
                poll_id,
                question_ids,
                server.pid,
            )
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    # The steady state: everyone is in the room (last join + one interval) until the end.
    joined = max(stats["joins"]) if stats["joins"] else 0.0
    window_start = joined + args.interval
    samples = stats["samples"]
    steady = [s for s in samples if s[0] >= window_start]
    span = (max(s[0] for s in steady) - window_start) if steady else 0.0
    latency: dict[str, list[float]] = defaultdict(list)
    codes_of: dict[str, Counter] = defaultdict(Counter)
    fast_of: Counter = Counter()
    for _t, kind, status, elapsed, fast in steady:
        latency[kind].append(elapsed)
        codes_of[kind][status] += 1
        fast_of[kind] += fast
    errors = sum(1 for s in samples if s[2] not in (200, 302, 304))
    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads on 127.0.0.1; "
        f"{args.participants} participants joining over {args.ramp:g} s, polling every "
        f"{args.interval:g} s, room pass {'off' if args.no_pass else 'on'}, poll results "
        f"{'shown' if args.results_shown else 'hidden'}; "
        f"cores on this machine: {os.cpu_count()}"
        f"{' (server, database and cache pinned to core 0, load generator to core 1)' if args.pin else ''}"
        f"{f' (bench processes at nice {PRIORITY})' if args.priority else ''}"
        f"; load average at the end: {os.getloadavg()[0]:.2f}"
    )
    rate = len(steady) / span if span else 0.0
    need = args.participants / args.interval
    print(
        f"requests: {len(samples)} in {wall:.1f} s; steady state ({span:.0f} s with everyone "
        f"in the room): {rate:.0f} req/s sustained (the room asks for {need:.0f}); "
        f"errors over the whole run: {errors}; requests sent again on a new connection after "
        f"the server closed a kept-alive one (as browsers do): {stats['resent']}; room passes renewed: {stats['renewed']}"
    )
    window = [c for c in stats["cpu"] if c[0] >= window_start]
    if len(window) > 1:
        (t0, first), (t1, last) = window[0], window[-1]
        busy = {g: cpu_used(first[g], last[g]) / (t1 - t0) for g in last}
        print(
            "CPU in the steady state (cores busy on average): "
            + ", ".join(f"{g} {busy[g]:.2f}" for g in ("gunicorn", "db+cache", "generator"))
            + f", whole machine {busy['machine']:.2f} of {os.cpu_count()}"
        )
    for kind, values in sorted(latency.items()):
        codes = dict(codes_of[kind])
        if fast_of[kind]:
            codes["of which fast path"] = fast_of[kind]
        print(
            f"  {kind:9s} n={len(values):6d} p50={pct(values, 50):6.1f} ms "
            f"p95={pct(values, 95):6.1f} ms p99={pct(values, 99):6.1f} ms "
            f"mean={statistics.fmean(values):6.1f} ms statuses={codes}"
        )
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Production deployment files: docker-compose.yml, Dockerfile, gunicorn.conf.py, .env.example.

None of this needs a Docker engine: the files are parsed and checked statically, the compose
file against the compose specification, and the settings under production variables in a
subprocess (``manage.py check --deploy`` does not connect to any service).
"""

from __future__ import annotations

import ast
import json
import os
import re
import runpy
import secrets
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import gunicorn.config
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
SETTINGS = ROOT / "campus" / "settings.py"

APP_SERVICES = ("migrate", "web", "worker", "beat")
# Production concerns that settings.py must read from the environment (parser sanity check).
PRODUCTION_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "CAMPUS_NAME",
}
# Wired in compose before settings.py reads them (the AI gateway), and read by gunicorn.conf.py.
AI_VARS = {
    "CAMPUS_AI_BACKEND",
    "CAMPUS_LLM_BASE_URL",
    "CAMPUS_LLM_API_KEY",
    "CAMPUS_LLM_MODEL",
    "CAMPUS_EMBEDDING_MODEL",
}
GUNICORN_VARS = {"WEB_CONCURRENCY", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"}
# Read by campus/embedded.py (development only), documented with the settings.
OTHER_DOCUMENTED_VARS = {"CAMPUS_DATA_DIR"}

ENV_HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


# --- Helpers ----------------------------------------------------------------------------------


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _reads_environment(func: ast.AST) -> bool:
    """``env_str(...)`` and friends, ``os.environ.get(...)``, ``os.getenv(...)``."""
    if isinstance(func, ast.Name):
        return func.id in ENV_HELPERS
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "getenv":
        return isinstance(func.value, ast.Name) and func.value.id == "os"
    return func.attr in {"get", "pop", "setdefault"} and _is_os_environ(func.value)


def _env_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and node.args and _reads_environment(node.func):
        return _literal(node.args[0])
    if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
        return _literal(node.slice)  # os.environ["NAME"]
    if isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
        return _literal(node.left)  # "NAME" in os.environ
    return None


def settings_env_vars() -> set[str]:
    """Every variable campus/settings.py reads: env_* helpers, os.environ and os.getenv."""
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    return {name for node in ast.walk(tree) if (name := _env_name(node))}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def compose_variables() -> set[str]:
    """Variables interpolated anywhere in docker-compose.yml (``$$`` is an escaped dollar)."""
    found = set()
    for match in INTERPOLATION.finditer(COMPOSE.read_text(encoding="utf-8")):
        if name := match.group("braced") or match.group("bare"):
            found.add(name)
    return found


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose interpolation as ``docker compose`` does it, with ``given`` as the .env file."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = given.get(name)
        # ":-" and ":?" treat an empty value as missing, "-" and "?" only an unset one.
        missing = not current if op in (":-", ":?") else current is None
        if missing and op and op.endswith("-"):
            return arg
        if missing and op and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return current or ""

    return INTERPOLATION.sub(replace, value)


def env_example() -> dict[str, tuple[str, bool]]:
    """``{name: (value, active)}`` for every ``NAME=value`` line, active when not commented."""
    documented: dict[str, tuple[str, bool]] = {}
    pattern = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := pattern.match(line.strip()):
            documented[match["name"]] = (match["value"].strip(), not match["comment"])
    return documented


def dockerfile_instructions() -> list[tuple[str, str]]:
    """``[(INSTRUCTION, arguments)]`` with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    assert not current, "Dockerfile ends with a line continuation"
    instructions = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in final_stage():
        if keyword == "ENV":
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def clean_env(**extra: str) -> dict[str, str]:
    """A process environment with nothing from this test run (no CAMPUS_DATA_DIR, no
    CAMPUS_TESTING, no leftover service URLs): only what the caller passes."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_services_have_an_image_and_a_command():
    services = compose()["services"]
    assert set(services) == {"db", "redis", *APP_SERVICES}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
    for name in ("redis", *APP_SERVICES):
        assert services[name].get("command"), f"{name} needs a command"
    # One image, built from this repository, for every application service.
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["web"]["image"]
    assert services["db"]["image"].startswith("pgvector/pgvector:pg")
    assert services["redis"]["image"].startswith("redis:7")


def test_compose_commands():
    services = compose()["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    web = services["web"]["command"]
    assert web[0] == "gunicorn" and "campus.wsgi:application" in web
    assert "/app/gunicorn.conf.py" in web
    worker = " ".join(str(services["worker"]["command"]).split())
    assert worker.startswith("celery -A campus worker -Q default,ai,email -l info")
    assert "--concurrency ${CELERY_CONCURRENCY:-2}" in worker
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "campus", "beat"]
    assert beat[beat.index("-s") + 1] == "/app/var/celerybeat-schedule"
    redis = services["redis"]["command"]
    assert redis[redis.index("--appendonly") + 1] == "yes"


def test_compose_restart_policies_health_and_order():
    services = compose()["services"]
    for name, service in services.items():
        expected = "no" if name == "migrate" else "unless-stopped"
        assert service.get("restart") == expected, name
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "redis": {"condition": "service_healthy"},
        }, name
    assert services["web"]["ports"] == ["${CAMPUS_PORT:-8000}:8000"]
    # No reverse proxy inside: TLS terminates at the organisation's proxy.
    assert not any(
        proxy in str(service.get("image", ""))
        for service in services.values()
        for proxy in ("nginx", "traefik", "caddy", "haproxy", "apache", "httpd")
    )


def test_compose_volumes():
    data = compose()
    services = data["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    assert "media:/app/media" in services["web"]["volumes"]
    assert "media:/app/media" in services["worker"]["volumes"]
    assert "beat:/app/var" in services["beat"]["volumes"]
    assert set(data["volumes"]) == {"pgdata", "redisdata", "media", "beat"}


def test_compose_application_environment():
    data = compose()
    shared = data["x-campus-env"]
    for name in APP_SERVICES:
        env = data["services"][name]["environment"]
        for var in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
            assert env.get(var), f"{name} lacks {var}"
        assert {k: v for k, v in env.items() if k in shared} == shared, name
    assert shared["DATABASE_URL"] == (
        "postgres://campus:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@db:5432/campus"
    )
    assert shared["REDIS_URL"] == "redis://redis:6379/0"
    assert shared["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert shared["DEBUG"] == "0"
    assert shared["CAMPUS_MEDIA_ROOT"] == "/app/media"
    assert shared["CAMPUS_AI_BACKEND"] == "${CAMPUS_AI_BACKEND:-local}"
    # Every variable handed to the containers is one the code reads (typos show up here).
    known = settings_env_vars() | AI_VARS
    assert set(shared) - known == set()
    assert set(data["services"]["web"]["environment"]) - known - GUNICORN_VARS == set()


def test_compose_defaults_are_never_empty_where_that_changes_meaning():
    """An empty string is not "unset" for every setting (EMAIL_BACKEND, CAMPUS_BEHIND_PROXY,
    and gunicorn's own parsing of WEB_CONCURRENCY): only these may default to empty."""
    may_be_empty = {
        "CSRF_TRUSTED_ORIGINS",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "CAMPUS_CACHE_URL",
    } | (AI_VARS - {"CAMPUS_AI_BACKEND"})
    for name, value in compose()["services"]["web"]["environment"].items():
        assert interpolate(
            str(value), {"POSTGRES_PASSWORD": "p", "SECRET_KEY": "s", "ALLOWED_HOSTS": "h"}
        ) or (name in may_be_empty), name


def test_compose_matches_the_compose_specification():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- .env.example -------------------------------------------------------------------------------


def test_env_example_documents_every_variable():
    documented = set(env_example())
    read_by_settings = settings_env_vars()
    assert read_by_settings >= PRODUCTION_VARS, "settings.py parser lost production variables"
    assert read_by_settings - documented == set(), "settings read undocumented variables"
    assert compose_variables() - documented == set(), "compose uses undocumented variables"
    # And nothing documented that no longer exists.
    known = read_by_settings | compose_variables() | OTHER_DOCUMENTED_VARS
    assert documented - known == set()


def test_env_example_leaves_required_secrets_empty():
    """The ``${VAR:?…}`` variables stay empty so that compose refuses to start until set."""
    required = {
        match.group("braced")
        for match in INTERPOLATION.finditer(COMPOSE.read_text(encoding="utf-8"))
        if match.group("op") == ":?"
    }
    assert required == {"POSTGRES_PASSWORD", "SECRET_KEY", "ALLOWED_HOSTS"}
    documented = env_example()
    for name in required:
        assert documented[name] == ("", True), name
    # Every other line is a commented default: a fresh .env changes nothing else.
    assert {name for name, (_, active) in documented.items() if active} == required


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_runtime_image():
    stage = final_stage()
    base = stage[0][1].split()[0]
    match = re.fullmatch(r"python:3\.(\d+)(?:[.\w-]*)", base)
    assert match and int(match.group(1)) >= 11, base
    for keyword, args in dockerfile_instructions():
        if keyword == "FROM":
            assert args.startswith("python:3."), args
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("EXPOSE", "8000") in stage
    cmd = json.loads(next(args for keyword, args in stage if keyword == "CMD"))
    assert cmd[0] == "gunicorn" and "campus.wsgi:application" in cmd
    assert "/app/gunicorn.conf.py" in cmd
    env = image_env()
    assert env["CAMPUS_MEDIA_ROOT"] == "/app/media"
    assert env["PYTHONPATH"] == "/app"


def test_dockerfile_installs_with_constraints_and_collects_static():
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install -c constraints\.txt \.(\s|$)", run) for run in runs)
    assert not any("[dev]" in run for run in runs)
    collect = [run for run in runs if "collectstatic" in run]
    assert len(collect) == 1
    # Placeholder service settings only for that step, not baked into the image.
    assert "SECRET_KEY=build-only" in collect[0]
    assert "SECRET_KEY" not in image_env() and "DATABASE_URL" not in image_env()


def test_dockerignore_keeps_secrets_and_local_state_out():
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", "var", ".git", "staticfiles", "**/__pycache__"} <= ignored


def test_dockerfile_build_step_imports_settings_without_services(tmp_path):
    """The collectstatic RUN step, with exactly its variables and the image's ENV."""
    collect = next(args for keyword, args in dockerfile_instructions() if "collectstatic" in args)
    assignments = dict(
        token.split("=", 1)
        for token in shlex.split(collect.split("python manage.py")[0])
        if "=" in token
    )
    assert set(assignments) == {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    image = image_env()
    env = clean_env(
        **assignments,
        DJANGO_SETTINGS_MODULE=image["DJANGO_SETTINGS_MODULE"],
        CAMPUS_MEDIA_ROOT=str(tmp_path / "media"),
        CAMPUS_STATIC_ROOT=str(tmp_path / "static"),
    )
    result = manage("collectstatic", "--noinput", "--dry-run", "--verbosity", "0", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthcheck_sends_a_request_the_app_accepts():
    """Runs the HEALTHCHECK command against a stand-in server: the right path, Host and
    X-Forwarded-Proto (so that host validation and the HTTPS redirect let it through)."""
    healthcheck = next(args for keyword, args in final_stage() if keyword == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    argv = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert argv[0] == "python"
    seen: list[dict[str, str]] = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            self.send_response(status["code"])
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = clean_env(PORT=str(server.server_port), ALLOWED_HOSTS=".example.org,other.org")
        run = [sys.executable, *argv[1:]]
        ok = subprocess.run(run, env=env, capture_output=True, text=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
        assert seen[-1]["path"] == "/healthz"
        assert seen[-1]["host"] == "example.org"
        assert seen[-1]["x-forwarded-proto"] == "https"
        status["code"] = 503
        failing = subprocess.run(run, env=env, capture_output=True, text=True, timeout=30)
        assert failing.returncode != 0
    finally:
        server.shutdown()
        server.server_close()


# --- Settings under production variables ----------------------------------------------------


def _production_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(
        DATABASE_URL="postgres://campus:x@db/campus",
        REDIS_URL="redis://redis:6379/0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="campus.example.org",
        CAMPUS_MEDIA_ROOT=str(tmp_path / "media"),
    )


def _compose_env(tmp_path: Path) -> dict[str, str]:
    """The web container's environment as compose would build it from a minimal .env."""
    given = {
        "POSTGRES_PASSWORD": "x",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "campus.example.org",
    }
    web = compose()["services"]["web"]["environment"]
    env = clean_env(**{name: interpolate(str(value), given) for name, value in web.items()})
    env["CAMPUS_MEDIA_ROOT"] = str(tmp_path / "media")
    return env


@pytest.mark.parametrize("make_env", [_production_env, _compose_env], ids=["minimal", "compose"])
def test_check_deploy_passes_under_production_settings(tmp_path, make_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=make_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_refuse_to_start_without_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# --- gunicorn.conf.py -------------------------------------------------------------------------


def load_gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)
    assert conf["bind"] == ["0.0.0.0:8000"]
    assert 3 <= conf["workers"] <= conf["MAX_DEFAULT_WORKERS"] <= 16
    assert conf["threads"] == 1
    assert conf["timeout"] == 60
    assert conf["max_requests"] > 0
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert conf["forwarded_allow_ips"] == "*"
    assert conf["accesslog"] == "-" and conf["errorlog"] == "-"
    # No client address or user agent in the access log (anonymity of 180° feedback).
    assert "%(h)s" not in conf["access_log_format"] and "%(a)s" not in conf["access_log_format"]


def test_gunicorn_reads_the_environment(monkeypatch):
    conf = load_gunicorn_conf(
        monkeypatch,
        PORT="9000",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        CAMPUS_LOG_LEVEL="WARNING",
    )
    assert conf["bind"] == ["0.0.0.0:9000"]
    assert conf["workers"] == 3
    assert conf["threads"] == 4
    assert conf["loglevel"] == "warning"
    automatic = load_gunicorn_conf(monkeypatch, WEB_CONCURRENCY="0")["workers"]
    assert automatic == load_gunicorn_conf(monkeypatch)["workers"]


@pytest.mark.parametrize("env", [{"WEB_CONCURRENCY": "many"}, {"PORT": "http"}, {"PORT": "0"}])
def test_gunicorn_rejects_malformed_values(monkeypatch, env):
    with pytest.raises(ValueError, match=next(iter(env))):
        load_gunicorn_conf(monkeypatch, **env)


def test_gunicorn_accepts_every_setting(monkeypatch):
    """Every lowercase name is a real gunicorn setting (a typo would be silently ignored) and
    passes gunicorn's own validation."""
    conf = load_gunicorn_conf(monkeypatch)
    config = gunicorn.config.Config()
    names = {
        name
        for name, value in conf.items()
        if name.islower()
        and not name.startswith("_")
        and not callable(value)
        and not isinstance(value, type(os))
    } - {"annotations"}
    assert names - set(config.settings) == set()
    for name in names:
        config.set(name, conf[name])
    assert config.address and config.workers >= 1

"""The compose stack: validated by docker-compose itself (where installed), its structure, and
the entrypoint that turns the secret files into settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_takes_secrets_from_files_and_checks_health_cheaply_enough():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(compose["secrets"]) == {"db_password", "api_secret"}
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    text = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD}" not in text  # no password pasted into a DSN
    for name in ("gateway", "api"):
        service = services[name]
        assert {"db_password", "api_secret"} <= set(service["secrets"])
        assert "UCHET_DATABASE_URL" not in service["environment"]
        check = service["healthcheck"]
        assert "start_period" in check
        assert int(check["timeout"].rstrip("s")) >= 5
    gateway = services["gateway"]
    # the cheap check: the gateway's own /health port, set in its environment
    port = gateway["environment"]["UCHET_HEALTH_PORT"]
    assert f"127.0.0.1:{port}/health" in " ".join(gateway["healthcheck"]["test"])


def test_dockerignore_keeps_the_virtualenv_store_and_git_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".uchet", ".git", "tests", "artifacts"} <= set(ignored)
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            source = line.split()[1]
            assert source not in ignored, line
    assert 'ENTRYPOINT ["uchet-entrypoint"]' in dockerfile


def test_entrypoint_escapes_the_password_and_passes_the_api_secret(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    password = "p@ss:w/rd%#?&= ё"
    (secrets / "db_password").write_text(password + "\n")
    (secrets / "api_secret").write_text("s" * 40)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uchet").write_text(
        '#!/bin/sh\necho "$UCHET_DATABASE_URL"\necho "$UCHET_API_SECRET"\necho "$@"\n'
    )
    (fake / "uchet").chmod(0o755)
    env = {
        k: v for k, v in os.environ.items() if k not in ("UCHET_DATABASE_URL", "UCHET_API_SECRET")
    }
    env |= {"PATH": f"{fake}:{os.environ['PATH']}", "SECRETS_DIR": str(secrets)}
    out = subprocess.run(
        ["sh", str(ROOT / "docker" / "entrypoint.sh"), "gateway", "--migrate"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    url = urllib.parse.urlsplit(out[0])
    assert (url.username, url.hostname, url.port, url.path) == ("uchet", "db", 5432, "/uchet")
    assert urllib.parse.unquote(url.password or "") == password
    assert out[1:] == ["s" * 40, "gateway --migrate"]


COMPOSE = shutil.which("docker-compose")


@pytest.mark.skipif(COMPOSE is None, reason="docker-compose (Debian) is not installed")
def test_docker_compose_validates_the_file(tmp_path) -> None:
    """The compose tool itself validates the stack (no Docker daemon needed for `config`)."""
    ok = subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        (ROOT / "docker-compose.yml").read_text().replace("depends_on:", "depends_onn:", 1)
    )
    bad = subprocess.run(
        [COMPOSE, "-f", str(broken), "config", "-q"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert bad.returncode != 0  # the check can fail

"""Tests of partygroup/env.py (typed settings helpers) and of the SECRET_KEY rule in settings.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from partygroup.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]
VAR = "PARTYGROUP_TEST_VARIABLE"


@pytest.fixture(autouse=True)
def _unset(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)


# --- env_str -------------------------------------------------------------------------------------
def test_env_str_returns_the_value_or_the_default(monkeypatch):
    assert env_str(VAR) is None
    assert env_str(VAR, "默认") == "默认"
    monkeypatch.setenv(VAR, "值")
    assert env_str(VAR, "默认") == "值"


def test_env_str_keeps_an_empty_value(monkeypatch):
    monkeypatch.setenv(VAR, "")
    assert env_str(VAR, "默认") == ""


def test_env_str_required_fails_loudly_with_the_name():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_str(VAR, required=True)
    assert str(excinfo.value) == f"环境变量 {VAR} 未设置（必填）。 Environment variable {VAR} is required."


# --- env_bool ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, default=not expected) is expected


def test_env_bool_default_when_unset():
    assert env_bool(VAR) is False
    assert env_bool(VAR, default=True) is True


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv(VAR, "maybe")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_bool(VAR)
    assert (
        str(excinfo.value) == f"环境变量 {VAR}='maybe' 不是布尔值（应为 1/0、true/false、yes/no、on/off）。"
    )


# --- env_int -------------------------------------------------------------------------------------
def test_env_int_reads_an_integer_or_the_default(monkeypatch):
    assert env_int(VAR, 7) == 7
    monkeypatch.setenv(VAR, "42")
    assert env_int(VAR, 7, minimum=1, maximum=100) == 42


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("4x", f"环境变量 {VAR}='4x' 不是整数。"),
        ("0", f"环境变量 {VAR}=0 小于允许的最小值 1。"),
        ("101", f"环境变量 {VAR}=101 大于允许的最大值 100。"),
    ],
)
def test_env_int_refuses_bad_values_with_the_name(monkeypatch, raw, message):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_int(VAR, 7, minimum=1, maximum=100)
    assert str(excinfo.value) == message


def test_env_int_bounds_are_inclusive(monkeypatch):
    for raw in ("1", "100"):
        monkeypatch.setenv(VAR, raw)
        assert env_int(VAR, 7, minimum=1, maximum=100) == int(raw)


# --- env_list / env_choice -----------------------------------------------------------------------
def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    default = ["a"]
    assert env_list(VAR, default) == ["a"]
    assert env_list(VAR, default) is not default  # a copy: settings cannot change the default
    assert env_list(VAR) == []
    monkeypatch.setenv(VAR, " example.org, ,127.0.0.1 ,")
    assert env_list(VAR, default) == ["example.org", "127.0.0.1"]
    monkeypatch.setenv(VAR, "")
    assert env_list(VAR, default) == []


def test_env_choice_accepts_a_listed_value_or_the_default(monkeypatch):
    assert env_choice(VAR, ("db", "rq"), "db") == "db"
    monkeypatch.setenv(VAR, "rq")
    assert env_choice(VAR, ("db", "rq"), "db") == "rq"


def test_env_choice_refuses_an_unlisted_value(monkeypatch):
    monkeypatch.setenv(VAR, "celery")
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_choice(VAR, ("db", "rq"), "db")
    assert str(excinfo.value) == f"环境变量 {VAR}='celery' 无效，可选值：db, rq。"


# --- settings.py: SECRET_KEY is required unless DEBUG ---------------------------------------------
def import_settings(**env: str) -> subprocess.CompletedProcess:
    """``python -c 'import partygroup.settings'`` in a clean environment plus ``env``."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONIOENCODING": "utf-8", **env}
    return subprocess.run(
        [sys.executable, "-c", "import partygroup.settings"],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_settings_refuse_to_start_without_secret_key_unless_debug():
    result = import_settings()
    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY 未设置。生产环境必须设置 SECRET_KEY；"
        "开发时请设置 DEBUG=1。 (SECRET_KEY is required unless DEBUG=1.)"
    ) in result.stderr


def test_settings_refuse_an_empty_secret_key():
    result = import_settings(SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY 未设置" in result.stderr


def test_settings_start_with_debug_and_no_secret_key():
    result = import_settings(DEBUG="1")
    assert (result.returncode, result.stderr) == (0, "")


def test_settings_start_with_a_secret_key_in_production():
    result = import_settings(SECRET_KEY="a-long-random-production-secret-key-0123456789")
    assert (result.returncode, result.stderr) == (0, "")


def test_settings_name_a_misspelt_variable():
    result = import_settings(DEBUG="yes please")
    assert result.returncode != 0
    assert "环境变量 DEBUG='yes please' 不是布尔值" in result.stderr

"""Typed helpers that read settings from the environment and fail loudly on bad values.

Modelled on healthchecks' ``hc/settings.py`` (``envbool``/``envint``): a misspelt value stops the
process at start-up with the variable's name, rather than silently falling back to a default.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(
                f"环境变量 {name} 未设置（必填）。 Environment variable {name} is required."
            )
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"环境变量 {name}={value!r} 不是布尔值（应为 1/0、true/false、yes/no、on/off）。"
    )


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"环境变量 {name}={value!r} 不是整数。") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"环境变量 {name}={number} 小于允许的最小值 {minimum}。")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"环境变量 {name}={number} 大于允许的最大值 {maximum}。")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"环境变量 {name}={value!r} 无效，可选值：{', '.join(choices)}。")
    return value

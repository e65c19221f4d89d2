"""Tests of partygroup/http.py's form helpers: a service's refusal (``ValidationError``) shown on the
form — on the field it names (or its alias), else at the top — and nothing after the refused call;
a workflow step's outcome flashed as messages (flash_outcome)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from partygroup.http import apply_errors, errors_on, flash_outcome


class _Form(forms.Form):
    member = forms.CharField(required=False)
    note = forms.CharField(required=False)


def _bound() -> _Form:
    form = _Form({"member": "x", "note": ""})
    assert form.is_valid()
    return form


def test_apply_errors_puts_field_errors_on_fields_and_the_rest_on_top():
    form = _bound()
    apply_errors(form, ValidationError({"note": "备注有误。", "year": "年度有误。"}))
    assert form.errors == {"note": ["备注有误。"], "__all__": ["年度有误。"]}


def test_apply_errors_alias_none_sends_a_field_error_to_top():
    form = _bound()
    apply_errors(form, ValidationError({"member": "该党员已离开。"}), aliases={"member": None})
    assert form.errors == {"__all__": ["该党员已离开。"]}


def test_apply_errors_plain_messages_go_to_top():
    form = _bound()
    apply_errors(form, ValidationError(["第一条。", "第二条。"]))
    assert form.non_field_errors() == ["第一条。", "第二条。"]


def test_errors_on_catches_the_refusal_and_skips_the_rest_of_the_block():
    form = _bound()
    done = []
    with errors_on(form):
        raise ValidationError({"note": "备注有误。"})
        done.append("redirect")  # pragma: no cover - never reached
    assert done == []
    assert form.errors == {"note": ["备注有误。"]}
    assert not form.is_valid()


def test_errors_on_runs_the_whole_block_when_the_service_accepts():
    form = _bound()
    done = []
    with errors_on(form):
        done.append("saved")
        done.append("redirect")
    assert done == ["saved", "redirect"]
    assert form.errors == {}


def _request():
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _flashed(request) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in request._messages]


def test_flash_outcome_flashes_the_steps_success_message():
    request = _request()
    assert flash_outcome(request, lambda: "已批准。") is True
    assert _flashed(request) == [("success", "已批准。")]


def test_flash_outcome_flashes_each_reason_of_a_refusal_and_no_success():
    request = _request()

    def refused() -> str:
        raise ValidationError(["会议尚未召开。", "请先填写会议记录。"])

    assert flash_outcome(request, refused) is False
    assert _flashed(request) == [("error", "会议尚未召开。"), ("error", "请先填写会议记录。")]

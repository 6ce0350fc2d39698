"""Where network namespaces cannot be made, the two-host variant is skipped with the
reason: ``netns.unavailable()`` names it (no ``ip`` tool, not root) instead of failing."""

from __future__ import annotations

import pytest

from tests.e2e.scaleout import netns

pytestmark = [pytest.mark.scaleout]


def test_no_ip_tool_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.shutil, "which", lambda _name: None)
    assert netns.unavailable() == "the ip tool (iproute2) is not installed"


def test_not_root_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    reason = netns.unavailable()
    assert reason is not None
    assert "need root" in reason
    assert "uid 1000" in reason


def test_a_failing_ip_command_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(netns.os, "geteuid", lambda: 0)

    def refuse(*_args: str) -> None:
        raise netns.subprocess.CalledProcessError(1, "ip", stderr=b"Operation not permitted")

    monkeypatch.setattr(netns, "_ip", refuse)
    assert netns.unavailable() == "ip netns add failed: Operation not permitted"

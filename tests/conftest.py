"""Suite-wide rule: in CI (the environment variable CI is set), a skipped test is a failure.

Tests skip locally when a real part is missing (Chromium, Graphviz's `dot`, an optional
package); `.ci/run` installs every one of them, so a skip there means a part did not come up,
and that must not pass unseen.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

IN_CI = bool(os.environ.get("CI"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every real part must be present: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every real part must be present: {report.longrepr}"

"""`micrograd.gradcheck`: passes correct gradients, and points at the input that disagrees."""

from __future__ import annotations

import math

import pytest

from micrograd import Value, gradcheck
from micrograd.gradcheck import GradcheckReport, GradcheckRow


def wrong_square(x: Value) -> Value:
    """x**2 built by hand, workshop style, with a deliberately wrong derivative (3x, not 2x)."""
    out = Value(x.data**2, (x,), "sq")

    def _backward() -> None:
        x.grad += 3 * x.data * out.grad

    out._backward = _backward
    return out


def test_passes_on_a_correct_function() -> None:
    report = gradcheck(
        lambda a, b, c: (a * b).tanh() + (c**2 + 1).log() * a.exp() - b / (c.sigmoid() + 1),
        [0.3, -1.2, 0.8],
    )
    assert report
    assert report.ok
    assert report.failures == []
    assert len(report.rows) == 3
    assert all(isinstance(r, GradcheckRow) for r in report.rows)
    assert [r.index for r in report.rows] == [0, 1, 2]


def test_rows_hold_both_gradients() -> None:
    report = gradcheck(lambda x, y: x * y * y, [2.0, 3.0])
    (rx, ry) = report.rows
    assert rx.analytic == 9.0
    assert ry.analytic == 12.0
    assert rx.numeric == pytest.approx(9.0, rel=1e-8)
    assert ry.numeric == pytest.approx(12.0, rel=1e-8)
    assert rx.abs_error == abs(rx.analytic - rx.numeric)
    assert rx.rel_error <= 1e-8


def test_reports_the_input_that_disagrees() -> None:
    a = Value(1.5, label="a")
    b = Value(2.0, label="b")
    report = gradcheck(lambda a, b: wrong_square(a) + a * b, [a, b])
    assert not report
    assert not report.ok
    assert [r.label for r in report.failures] == ["a"]
    (ra, rb) = report.rows
    assert (ra.ok, rb.ok) == (False, True)
    # Backprop says 3a + b = 6.5; the true derivative is 2a + b = 5.
    assert ra.analytic == 6.5
    assert ra.numeric == pytest.approx(5.0, rel=1e-7)
    assert rb.analytic == pytest.approx(1.5)


def test_report_table_names_the_failing_input() -> None:
    report = gradcheck(
        lambda a, b: wrong_square(a) + a * b, [Value(1.5, label="a"), Value(2.0, label="b")]
    )
    text = str(report)
    lines = text.splitlines()
    assert "analytic" in lines[0] and "numeric" in lines[0]
    row_a = next(line for line in lines if line.startswith("a "))
    row_b = next(line for line in lines if line.startswith("b "))
    assert "MISMATCH" in row_a and "6.5" in row_a
    assert "MISMATCH" not in row_b and row_b.rstrip().endswith("ok")
    assert "1 input(s) disagree" in lines[-1]


def test_unlabelled_inputs_are_named_by_index() -> None:
    report = gradcheck(lambda x, y: x + wrong_square(y), [1.0, -0.5])
    assert [r.index for r in report.failures] == [1]
    assert any(line.startswith("#1") and "MISMATCH" in line for line in str(report).splitlines())
    assert "all gradients agree" not in str(report)


def test_passing_report_says_so() -> None:
    text = str(gradcheck(lambda x: x.exp(), [0.5]))
    assert "all gradients agree" in text
    assert "MISMATCH" not in text


def test_tolerances_are_applied_and_reported() -> None:
    # A gradient 1e-3 off passes a loose check and fails a tight one.
    def slightly_off(x: Value) -> Value:
        out = Value(x.data * 2, (x,), "2x")

        def _backward() -> None:
            x.grad += 2.001 * out.grad

        out._backward = _backward
        return out

    assert gradcheck(slightly_off, [1.0], atol=1e-2, rtol=0)
    tight = gradcheck(slightly_off, [1.0], atol=1e-5, rtol=1e-4)
    assert not tight
    assert "atol=1e-05" in str(tight) and "rtol=0.0001" in str(tight)


def test_eps_controls_the_step() -> None:
    # For x**3 the central difference is off by eps**2: a large eps shows up, a small does not.
    coarse = gradcheck(lambda x: x**3, [1.0], eps=0.1, atol=0, rtol=1e-6)
    fine = gradcheck(lambda x: x**3, [1.0], eps=1e-5, atol=0, rtol=1e-6)
    assert not coarse
    assert coarse.rows[0].numeric == pytest.approx(3.01)
    assert fine


def test_inputs_can_be_values_or_numbers_and_are_left_untouched() -> None:
    x = Value(0.4, label="x")
    report = gradcheck(lambda x, y: x * y, [x, 3])
    assert report
    assert x.grad == 0.0 and x.data == 0.4
    assert report.rows[0].label == "x"
    assert report.rows[1].label == ""


def test_zero_gradient_function() -> None:
    report = gradcheck(lambda x, y: x // y + y * 0, [7.3, 2.1])
    assert report
    assert all(r.analytic == 0.0 for r in report.rows)
    assert report.rows[0].rel_error == 0.0


def test_report_is_a_value_object() -> None:
    report = gradcheck(lambda x: x * x, [1.0])
    assert isinstance(report, GradcheckReport)
    assert report.atol == 1e-5 and report.rtol == 1e-4
    assert math.isclose(report.rows[0].numeric, 2.0, rel_tol=1e-8)

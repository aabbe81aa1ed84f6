"""Turn a module (and a merged submission) into the engine's Job.

The graded calls always use the *source's* text: a test item re-executes its locked
cell from the source before calling its test functions, and each unit test is
re-defined from the source cell it lives in, so redefining or deleting a test in the
submission hides nothing (DESIGN.md, graded items 1 and 4).
"""
from __future__ import annotations

from grader.course import Policy
from grader.engine import Call, Limits
from grader.module import Module

UNIT_PREFIX = "unit:"


def limits_of(policy: Policy, *, timeout_s: float | None = None,
              memory_mb: int | None = None) -> Limits:
    return Limits(cell_timeout_s=timeout_s or policy.cell_timeout_s,
                  call_timeout_s=timeout_s or policy.item_timeout_s,
                  memory_mb=memory_mb or policy.memory_mb,
                  output_cap_bytes=policy.output_cap_bytes)


def graded_calls(module: Module, *, answered: set[str] | None = None) -> list[Call]:
    """Calls for the test items, the assessments and the unit tests, in source order.

    `answered`: the assessment ids whose answer cell the submission still has (a
    deleted answer cell is not called: it scores 0).
    """
    calls: list[Call] = []
    for item in module.items:
        if item.kind == "test":
            calls.append(Call(key=item.id, setup=item.cell.source, functions=item.functions))
        elif item.kind == "assessment" and item.functions:
            if answered is None or item.id in answered:
                calls.append(Call(key=item.id, setup=None, functions=item.functions[:1],
                                  want_value=True))
    for test in module.unit_tests:
        calls.append(Call(key=UNIT_PREFIX + test.name, setup=test.cell.source,
                          functions=[test.name]))
    return calls


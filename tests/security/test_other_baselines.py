"""The strongest attacks again, on other honest baselines: the untouched release (0/40:
every answer raises NotImplementedError) and the release with only the three
assessments answered (15/40: MSE, Trainer... still raise)."""
from __future__ import annotations

import pytest

from grader.synth import append_code
from security_helpers import assert_honest
from test_forged_frames import DUP2_MAN_IN_THE_MIDDLE, SPRAY_EVERY_FD
from test_in_process_patches import BUILTIN_PATCHES, RUNNER_SEND_VIA_SYS_MODULES
from test_instructor_helpers import ZERO_HELPER
from test_reach_grader_objects import (BACKGROUND_THREAD, VIA_GC, VIA_SIGNAL_HANDLER,
                                       VIA_SYS_SETTRACE)

ATTACKS = {
    "sys.modules": RUNNER_SEND_VIA_SYS_MODULES,
    "signal.getsignal": VIA_SIGNAL_HANDLER,
    "gc.get_objects": VIA_GC,
    "background-thread": BACKGROUND_THREAD,
    "forged-frames": SPRAY_EVERY_FD,
    "dup2-man-in-the-middle": DUP2_MAN_IN_THE_MIDDLE,
}

# an answer that raises NotImplementedError cannot be rescued by a zero helper
# alone; together with the frame attacks it is the student's best shot
COMBINED = "\n".join([RUNNER_SEND_VIA_SYS_MODULES, VIA_SIGNAL_HANDLER, VIA_SYS_SETTRACE,
                      ZERO_HELPER, BUILTIN_PATCHES["builtins.abs"]])


@pytest.mark.parametrize("baseline", ["release", "answers_only"])
@pytest.mark.parametrize("name", list(ATTACKS) + ["combined"])
def test_attacks_on_unanswered_notebooks(training, grade, request, baseline, name):
    nb = request.getfixturevalue(baseline)
    honest = grade.honest(training, nb)
    attack = COMBINED if name == "combined" else ATTACKS[name]
    result = grade(training, append_code(nb, attack))
    assert_honest(result, honest)

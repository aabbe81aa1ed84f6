"""The IPython shell the zygote builds once and every sandbox child inherits.

Display hook and display publisher write into the current OutputSink instead of
sys.stdout; tracebacks are not printed (the runner builds an error output itself);
`!cmd` runs through system_raw so its output lands on fd 1/2, which are captured.
"""
from __future__ import annotations

import os
from typing import Any

from IPython.core.compilerop import CachingCompiler
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


class NamedCompiler(CachingCompiler):
    """Compiles the current cell under a stable name such as "<cell:KEY>"."""

    code_name: str | None = None

    def get_code_name(self, raw_code: str, transformed_code: str, number: int) -> str:
        if self.code_name is not None:
            return self.code_name
        return super().get_code_name(raw_code, transformed_code, number)


class CapturingDisplayHook(DisplayHook):
    def start_displayhook(self) -> None:
        pass

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: dict[str, Any], md_dict: Any = None) -> None:
        sink = getattr(self.shell, "sink", None)
        if sink is not None:
            sink.display("execute_result", format_dict, md_dict, self.prompt_count)

    def finish_displayhook(self) -> None:
        pass


class CapturingDisplayPublisher(DisplayPublisher):
    def publish(self, data: dict[str, Any], metadata: Any = None, source: Any = None, *,
                transient: Any = None, update: bool = False, **kwargs: Any) -> None:
        sink = getattr(self.shell, "sink", None)
        if sink is not None:
            sink.display("display_data", data, metadata)

    def clear_output(self, wait: bool = False) -> None:
        sink = getattr(self.shell, "sink", None)
        if sink is not None:
            sink.outputs.clear()


class SandboxShell(InteractiveShell):
    displayhook_class = CapturingDisplayHook  # type: ignore[assignment]
    display_pub_class = CapturingDisplayPublisher  # type: ignore[assignment]
    compiler_class = NamedCompiler  # type: ignore[assignment]
    system = InteractiveShell.system_raw  # output goes to fd 1/2 (captured), no pty needed
    sink: Any = None

    def _showtraceback(self, etype: Any, evalue: Any, stb: Any) -> None:
        pass  # the runner turns the ExecutionResult's exception into an error output


def make_shell(ipython_dir: str) -> SandboxShell:
    os.environ["IPYTHONDIR"] = ipython_dir
    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.HistoryManager.hist_file = ":memory:"
    cfg.InteractiveShell.colors = "nocolor"
    cfg.InteractiveShell.autocall = 0
    cfg.InteractiveShell.ipython_dir = ipython_dir
    shell = SandboxShell.instance(config=cfg)
    return shell

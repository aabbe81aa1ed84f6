"""The IPython shell the zygote builds once and every sandbox child inherits.

Display hook and display publisher write into the current OutputSink instead of
sys.stdout; tracebacks are not printed (the runner builds an error output itself);
`!cmd` runs through system_raw so its output lands on fd 1/2, which are captured.
"""
from __future__ import annotations

import __future__
import ast
import contextlib
import os
import re
import sys
from typing import Any

from IPython.core.compilerop import CachingCompiler
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.error import UsageError
from IPython.core.inputtransformer2 import classic_prompt, leading_indent
from IPython.core.interactiveshell import InteractiveShell, softspace
from traitlets.config import Config

_FUTURES = [getattr(__future__, name) for name in __future__.all_feature_names]
_WHITESPACE_ONLY = re.compile(r"^[ \t]+$", re.MULTILINE)   # textwrap.dedent's own


def _not_indented(lines: list[str]) -> list[str]:
    """What IPython's leading_indent (textwrap.dedent of the whole cell) gives for lines
    whose first line is not indented: no margin to take off, but lines of nothing but
    spaces and tabs emptied. dedent's per-line scan was a third of a cell's clean-up."""
    text = "".join(lines)
    emptied = _WHITESPACE_ONLY.sub("", text)
    return lines if emptied == text else emptied.splitlines(keepends=True)


class NamedCompiler(CachingCompiler):
    """Compiles the current cell under a stable name such as "<cell:KEY>"."""

    code_name: str | None = None
    parsed: tuple[str, Any] = ("", None)   # the fast path's tree of the current cell

    def ast_parse(self, source: str, filename: str = "<unknown>", symbol: str = "exec") -> Any:
        text, tree = self.parsed
        if tree is not None and text == source and symbol == "exec":
            return tree   # parsed once already, by SandboxShell._plain_python
        return super().ast_parse(source, filename, symbol)

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

    def quiet(self) -> bool:
        """Whether a ';' ends the cell. IPython tokenizes the whole cell to tell (~0.4 ms
        a cell); for a cell of the fast path, its last statement alone decides."""
        text, last = getattr(self.shell, "_ends", ("", ""))
        parsed = self.shell.history_manager.input_hist_parsed
        if last and parsed and parsed[-1] == text:
            return self.semicolon_at_end_of_expression(last)
        return super().quiet()


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


class Compiled(list):
    """A cell's code objects where IPython expects its syntax tree's statements."""

    last = ""   # the text of the cell's last statement


class SandboxShell(InteractiveShell):
    displayhook_class = CapturingDisplayHook  # type: ignore[assignment]
    display_pub_class = CapturingDisplayPublisher  # type: ignore[assignment]
    compiler_class = NamedCompiler  # type: ignore[assignment]
    system = InteractiveShell.system_raw  # output goes to fd 1/2 (captured), no pty needed
    sink: Any = None
    _plain: tuple[str, str | None] = ("", None)   # (raw cell, its text if plain Python)
    _ends: tuple[str, str] = ("", "")   # (a fast-path cell's text as history keeps it, its
    #                                     last statement): see CapturingDisplayHook.quiet

    # -- the fast path for plain-Python cells -----------------------------------------
    # IPython tokenizes every cell to find magics, `!`, `?` and auto-calls, and compiles
    # it once more to decide whether it needs an event loop. A cell that parses as
    # Python has none of these (each is a syntax error) and no top-level await, so after
    # IPython's cheap line clean-ups (leading blank lines, prompts, %% cell magics) the
    # token transforms would leave it as it is: skip them, and the async check.
    # Single-line cells keep the full path (IPython's prefilter does automagic there).
    fast_path = True   # Engine(fast_path=False) turns it off (tests compare both paths)

    def _plain_python(self, raw_cell: str) -> str | None:
        if not self.fast_path:
            return None
        if self._plain[0] == raw_cell and raw_cell:
            return self._plain[1]
        text = None
        if (lines := self._candidate_lines(raw_cell)) is not None:
            text = self._fast_text("".join(lines), lines)
        self._plain = (raw_cell, text)
        return text

    def _fast_text(self, text: str, lines: list[str]) -> str | None:
        """The cell's text if it runs on the fast path (compiled from its text, or
        parsed once), its code or tree kept for IPython's run; else None."""
        if (compiled := self._compiled(lines)) is not None:
            self.compile.parsed = (text, ast.Module(compiled, []))
            self._ends = (text.rstrip("\n"), compiled.last)
            return text
        try:
            tree = self.compile.ast_parse(text)
        except (SyntaxError, ValueError):
            return None
        # ast.parse accepts a top-level await; IPython must decide those
        if ("await" in text or "async" in text) and any(
                isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith))
                for node in ast.walk(tree)):
            return None
        self.compile.parsed = (text, tree)
        return text

    def _candidate_lines(self, raw_cell: str) -> list[str] | None:
        """The cell's cleaned lines if the fast path may take it, else None."""
        lines = self.cleaned_lines(raw_cell)
        return None if len(lines) < 2 or self.input_transformers_post else lines

    def cleaned_lines(self, raw_cell: str) -> list[str]:
        """The cell's lines after IPython's cheap line clean-ups (leading blank lines and
        indentation, prompts, %% cell magics): what its token transforms would start from."""
        manager = self.input_transformer_manager
        cell = raw_cell if raw_cell.endswith("\n") else raw_cell + "\n"
        lines = cell.splitlines(keepends=True)
        for transform in manager.cleanup_transforms + manager.line_transforms:
            if transform is classic_prompt and ">>>" not in cell:
                continue   # it strips '>>>' prompts, and scans every line to find them
            if transform is leading_indent and lines and not lines[0][:1].isspace():
                lines = _not_indented(lines)
                continue
            lines = transform(lines)
        return lines

    # -- IPython 9 keeps a copy of everything a cell prints, for its history's outputs --
    # (InteractiveShell._tee patches sys.stdout.write and sys.stderr.write). In a sandbox
    # nothing reads that copy, and it ignored the output cap: a cell printing gigabytes
    # kept them all in the kernel's memory. It also cost a Python call per write.
    @contextlib.contextmanager
    def _tee(self, channel: str) -> Any:
        yield

    def _compiled(self, lines: list[str]) -> Compiled | None:
        """The cell compiled straight from its text, as IPython would run it; None where
        that cannot be told without its syntax tree (then it is parsed as before).

        IPython parses a cell to a tree, then compiles the tree: building and converting
        the tree's Python objects costs as much as compiling the text. What it needs the
        tree for is the last statement: shown if it is an expression. That statement
        starts at the last line with no indentation (not blank, not a comment); the lines
        before it must compile on their own, and it must compile on its own, or the cell
        takes the parsing path. Top-level `await` does not compile here either."""
        name = self.compile.code_name
        if name is None or self.ast_transformers or self.ast_node_interactivity != "last_expr":
            return None
        last = next((i for i in range(len(lines) - 1, -1, -1)
                     if lines[i][:1] not in ("", " ", "\t", "\n", "\r", "#")), None)
        if last is None or ";" in lines[last]:
            return None   # 'a; b' is two statements on one line
        head, tail = "".join(lines[:last]), "\n" * last + "".join(lines[last:])
        try:
            # an expression is shown through the display hook
            mode = "single" if self._compile(tail, name, "eval") is not None else "exec"
            codes = [self._compile(head, name, "exec")] if head.strip() else []
            compiled = Compiled(codes + [self._compile(tail, name, mode)])
            compiled.last = tail.lstrip("\n")
            return compiled
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
            return None

    # -- code compiled ahead, in the template -------------------------------------------
    # Compiling is most of what a plain cell costs (~10 ms of a TinyTorch notebook), and
    # every submission sends the cells it did not change with the text the students were
    # given. Engine.learn has the template compile those released cells the way
    # _compiled does; each kernel forked after that takes their code objects from here.
    learned: dict[tuple[str, str, str, int], Any] = {}
    _learning = False

    def learn(self, cells: list[tuple[str, str]], setups: list[tuple[str, str]] = ()) -> None:
        """Compile the released cells (key, text) ahead, in order, so that a `from
        __future__` cell changes the flags of the cells after it as it will in a kernel;
        and the test cells run in the kernel (key, text: compiled_setup). Only text every
        student was given may come here: the kernels forked afterwards can read all of it."""
        if not self.fast_path:
            return
        flags, name = self.compile.flags, self.compile.code_name
        self.learned = dict(self.learned)
        self._learning = True
        try:
            for key, source in cells:
                self.compile.code_name = f"<cell:{key}>"
                if (lines := self._candidate_lines(source)) is not None:
                    self._compiled(lines)
            self.compile.flags = flags
            for key, setup in setups:
                try:
                    self.compiled_setup(key, setup)
                except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError):
                    pass   # the kernel reports it
        finally:
            self._learning = False
            self.compile.flags, self.compile.code_name = flags, name

    def compiled_setup(self, key: str, setup: str) -> tuple[str, Any]:
        """A test cell run in the kernel (KernelServer._run_setup): its text as IPython
        would transform it, and that compiled as `<setup:KEY>`. Plain Python is compiled
        once: its cleaned lines are what IPython's token transforms would give (see the
        fast path); other cells go through IPython's transforms."""
        name, flags = f"<setup:{key}>", self.compile.flags
        code = "".join(self.cleaned_lines(setup))
        learned = self.learned.get((code, name, "setup", flags))
        if learned is not None:
            return learned
        try:
            if self.input_transformers_post or not self.fast_path:
                raise SyntaxError("IPython's own transforms decide")
            done = code, compile(code, name, "exec", flags=flags, dont_inherit=True)
        except (SyntaxError, ValueError):
            text = self.transform_cell(setup)
            done = text, compile(text, name, "exec", flags=flags, dont_inherit=True)
        if self._learning:
            self.learned[(code, name, "setup", flags)] = done
        return done

    def _compile(self, source: str, name: str, mode: str) -> Any:
        """self.compile(source, name, mode), from the code compiled ahead when there is
        one for this text, name, mode and flags. Mode "eval" only tests whether the
        text is an expression: its code, or None."""
        key = (source, name, mode, self.compile.flags)
        if key in self.learned:
            code = self.learned[key]
            if mode != "eval":
                for feature in _FUTURES:   # as codeop.Compile does after compiling it
                    if code.co_flags & feature.compiler_flag:
                        self.compile.flags |= feature.compiler_flag
            return code
        if mode == "eval":
            try:
                code = compile(source, name, "eval", self.compile.flags, True)
            except SyntaxError:
                code = None
        else:
            code = self.compile(source, name, mode)
        if self._learning:
            self.learned[key] = code
        return code

    async def run_ast_nodes(self, nodelist: list[Any], cell_name: str,
                            interactivity: str = "last_expr", compiler: Any = compile,
                            result: Any = None) -> Any:
        """Plain cells: the statements before the last expression compiled as one module
        (IPython compiles and runs each statement on its own). A cell that only fails
        when compiled (`return` outside a function ...) keeps IPython's path, which runs
        the statements before the failing one first."""
        if isinstance(nodelist, Compiled):   # compiled from the text (_compiled)
            if interactivity != "last_expr":
                nodelist = self.compile.ast_parse(self.compile.parsed[0]).body
            else:
                return await self._run_codes(list(nodelist), result)
        plain = self.fast_path and interactivity == "last_expr" and nodelist and \
            self.compile.parsed[1] is not None and self.compile.parsed[1].body is nodelist
        if not plain:
            return await super().run_ast_nodes(nodelist, cell_name, interactivity, compiler,
                                               result)
        last_expr = isinstance(nodelist[-1], ast.Expr)
        body, single = (nodelist[:-1], nodelist[-1:]) if last_expr else (nodelist, [])
        try:
            codes = [compiler(ast.Module(body, []), cell_name, "exec")] if body else []
            codes += [compiler(ast.Interactive([node]), cell_name, "single") for node in single]
        except SyntaxError:
            return await super().run_ast_nodes(nodelist, cell_name, interactivity, compiler,
                                               result)
        return await self._run_codes(codes, result)

    async def _run_codes(self, codes: list[Any], result: Any) -> bool:
        try:
            for code in codes:
                if await self.run_code(code, result, async_=False):
                    return True
            if softspace(sys.stdout, 0):
                print()
        except BaseException:
            if result:
                result.error_before_exec = sys.exc_info()[1]
            self.showtraceback()
            return True
        return False

    def transform_cell(self, raw_cell: str) -> str:
        plain = self._plain_python(raw_cell)
        return plain if plain is not None else super().transform_cell(raw_cell)

    def should_run_async(self, raw_cell: str, *, transformed_cell: str | None = None,
                         preprocessing_exc_tuple: Any = None) -> bool:
        if self._plain_python(raw_cell) is not None:
            return False   # it parsed without top-level await
        return super().should_run_async(raw_cell, transformed_cell=transformed_cell,
                                        preprocessing_exc_tuple=preprocessing_exc_tuple)

    # -- tracebacks ---------------------------------------------------------------------
    # The runner builds a cell's error output itself (server.error_info), so IPython's
    # formatted traceback, made twice per failing cell (for display, and for the history
    # of exceptions), was thrown away: ~10 ms for a traceback through the framework.
    # Only the cases where formatting has effects a notebook can see go through IPython:
    # syntax and usage errors, exception groups (printed to stderr), a custom
    # `_render_traceback_`, and the debugger.
    def showtraceback(self, exc_tuple: Any = None, filename: str | None = None,
                      tb_offset: int | None = None, exception_only: bool = False,
                      running_compiled_code: bool = False) -> None:
        try:
            etype, value, _ = self._get_exc_info(exc_tuple)   # sets sys.last_value ...
        except ValueError:
            etype = value = None
        if (etype is None or exception_only or self.call_pdb or issubclass(etype, SyntaxError)
                or etype is UsageError or _has_group(value)
                or hasattr(value, "_render_traceback_")):
            super().showtraceback(exc_tuple, filename, tb_offset, exception_only,
                                  running_compiled_code)

    def _format_exception_for_storage(self, exception: BaseException, filename: Any = None,
                                      running_compiled_code: bool = False) -> dict[str, Any]:
        return {"ename": type(exception).__name__, "evalue": "", "traceback": []}

    def _showtraceback(self, etype: Any, evalue: Any, stb: Any) -> None:
        pass  # the runner turns the ExecutionResult's exception into an error output


def _has_group(value: Any) -> bool:
    seen = 0
    while value is not None and seen < 100:
        if isinstance(value, BaseExceptionGroup):
            return True
        value, seen = value.__context__, seen + 1
    return False


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

"""Python codegen (sync, async and pytest shapes) → flow events, by walking the ``ast``.

Nothing is executed: the file is parsed, and only the statement shapes Playwright's recorder emits
are understood.  Loops, conditionals and helper functions are reported at their line.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

from .mapping import SETUP_CALLS, FlowMapper, _Unsupported
from .model import (
    CallStmt,
    Chain,
    CodegenImportError,
    FlowEvent,
    Handler,
    PageAlias,
    Regex,
    Seg,
    Site,
    SkippedLine,
    Unsupported,
    Value,
)

_FLOW_WRAPPERS = ("run", "main")
_CONTROL_FLOW = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try, ast.Match)


class PythonFrontEnd:
    def __init__(self, source: str, path: Path, mapper: FlowMapper) -> None:
        self.path = path
        self.lines = source.splitlines()
        self.mapper = mapper
        try:
            with warnings.catch_warnings():  # invalid escapes in the user's file are not our warnings
                warnings.simplefilter("ignore")
                self.tree = ast.parse(source, filename=str(path))
        except SyntaxError as exc:
            line = exc.lineno or 1
            src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            raise CodegenImportError(
                [SkippedLine(path, line, exc.offset or 1, src, f"not valid Python: {exc.msg}")]
            ) from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise CodegenImportError([SkippedLine(path, 1, 1, "", f"cannot parse this file: {exc}")]) from None
        self.events: list[FlowEvent] = []
        self.funcs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
            n.name: n for n in self.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.inlined: set[str] = set()
        #: functions that may be named as event handlers: top-level ones, and defs inside the flow
        self.handlers: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
            name: f for name, f in self.funcs.items() if name not in _FLOW_WRAPPERS and not name.startswith("test")
        }
        self.infos: dict[str, str] = {}  # `with page.expect_popup() as page1_info` → {"page1_info": "popup"}
        self.popup_pending = False
        self.download_pending = False
        self.flavour = "sync"

    # ------------------------------------------------------------------ sites and values

    def site(self, node: ast.AST) -> Site:
        line = getattr(node, "lineno", 1)
        col_bytes = getattr(node, "col_offset", 0)
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        col = len(src.encode("utf-8")[:col_bytes].decode("utf-8", "replace")) + 1
        return Site(line, col, src)

    def col(self, node: ast.AST) -> int:
        return self.site(node).column

    def value(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant):
            v = node.value
            if v is None or isinstance(v, str | bool | int | float):
                return v
            raise _Unsupported(f"the literal {v!r} is not supported", self.col(node))
        if isinstance(node, ast.List | ast.Tuple):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            out: dict[str, Value] = {}
            for key_node, val_node in zip(node.keys, node.values, strict=True):
                if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)):
                    raise _Unsupported("dictionary keys must be string literals", self.col(node))
                out[key_node.value] = self.value(val_node)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.value(node.operand)
            if isinstance(inner, int | float) and not isinstance(inner, bool):
                return -inner
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compile"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
        ):
            return self.regex(node)
        if isinstance(node, ast.Lambda):
            return self.handler(node)  # e.g. page.once("dialog", lambda dialog: dialog.dismiss())
        if isinstance(node, ast.JoinedStr):
            raise _Unsupported("f-strings are computed at run time; use a literal", self.col(node))
        if isinstance(node, ast.Name) and node.id in self.handlers:
            return self.handler(self.handlers[node.id])  # page.on("dialog", handle_dialog)
        if isinstance(node, ast.Name | ast.Attribute | ast.Call | ast.Await):
            return self.chain(node)
        raise _Unsupported(f"'{_short(node)}' is computed at run time; codegen flows use literals", self.col(node))

    def handler(self, node: ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef) -> Handler:
        """``lambda dialog: dialog.accept("text")`` / ``.dismiss()`` (also wrapped in
        ``asyncio.ensure_future``/``create_task`` for the async API), or a ``def handle_dialog(dialog):``
        whose body does that (``print(...)`` lines aside); anything else is a Handler with a problem,
        reported only if it is used as a dialog handler."""
        params = node.args.posonlyargs + node.args.args
        if len(params) != 1 or node.args.vararg or node.args.kwarg:
            return Handler(problem="must take the dialog as its one parameter")
        param = params[0].arg
        if isinstance(node, ast.Lambda):
            calls = [node.body]
        else:
            calls = []
            for st in node.body:
                if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
                    continue  # a docstring
                value = st.value if isinstance(st, ast.Expr | ast.Return) else None
                if value is None:
                    return Handler(problem=f"must call {param}.accept() or {param}.dismiss() (and nothing else)")
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print":
                    continue
                calls.append(value)
            if len(calls) != 1:
                return Handler(problem=f"must call {param}.accept() or {param}.dismiss() exactly once")
        body: ast.expr = calls[0]
        while True:
            if isinstance(body, ast.Await):
                body = body.value
            elif (
                isinstance(body, ast.Call)
                and len(body.args) == 1
                and ast.unparse(body.func) in ("asyncio.ensure_future", "asyncio.create_task")
            ):
                body = body.args[0]
            else:
                break
        if not (
            isinstance(body, ast.Call)
            and isinstance(body.func, ast.Attribute)
            and isinstance(body.func.value, ast.Name)
            and body.func.value.id == param
            and body.func.attr in ("accept", "dismiss")
        ):
            return Handler(problem=f"must call {param}.accept() or {param}.dismiss() (and nothing else)")
        if body.func.attr == "dismiss":
            if body.args or body.keywords:
                return Handler(problem="dismiss() takes no arguments")
            return Handler("dismiss")
        texts = list(body.args) + [k.value for k in body.keywords if k.arg == "prompt_text"]
        if len(texts) > 1 or any(k.arg != "prompt_text" for k in body.keywords):
            return Handler(problem="accept() takes the prompt text only")
        if not texts:
            return Handler("accept")
        t = texts[0]
        if not (isinstance(t, ast.Constant) and isinstance(t.value, str)):
            return Handler(problem="accept() takes the prompt text as a string literal")
        return Handler("accept", t.value)

    def regex(self, node: ast.Call) -> Regex:
        if not node.args or not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            raise _Unsupported("re.compile() needs a string literal", self.col(node))
        flags = ""
        for f in node.args[1:] + [k.value for k in node.keywords]:
            names = ast.unparse(f)
            if "IGNORECASE" in names or names.endswith(".I"):
                flags += "i"
            else:
                raise _Unsupported(f"regular-expression flag {names} is not supported", self.col(f))
        return Regex(node.args[0].value, flags)

    def chain(self, node: ast.expr) -> Chain:
        segs: list[Seg] = []
        cur: ast.expr = node
        while True:
            if isinstance(cur, ast.Await):
                cur = cur.value
                continue
            if isinstance(cur, ast.Call):
                f = cur.func
                fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if fname in SETUP_CALLS:
                    # launch/context options (devices, viewport...) are not replayed; a session is
                    args = []
                    kwargs = {str(k.arg): self.value(k.value) for k in cur.keywords if k.arg == "storage_state"}
                else:
                    if any(isinstance(a, ast.Starred) for a in cur.args) or any(k.arg is None for k in cur.keywords):
                        raise _Unsupported("*args/**kwargs are not supported", self.col(cur))
                    args = [self.value(a) for a in cur.args]
                    kwargs = {str(k.arg): self.value(k.value) for k in cur.keywords}
                if isinstance(f, ast.Attribute):
                    segs.insert(0, Seg(f.attr, True, args, kwargs, self._attr_col(f)))
                    cur = f.value
                    continue
                if isinstance(f, ast.Name):
                    segs.insert(0, Seg(f.id, True, args, kwargs, self.col(f)))
                    return Chain("", segs, self.col(node))
                raise _Unsupported("this call is not supported", self.col(cur))
            if isinstance(cur, ast.Attribute):
                segs.insert(0, Seg(cur.attr, False, [], {}, self._attr_col(cur)))
                cur = cur.value
                continue
            if isinstance(cur, ast.Name):
                return Chain(cur.id, segs, self.col(node))
            raise _Unsupported(f"'{_short(cur)}' is computed at run time; codegen flows use literals", self.col(cur))

    def _attr_col(self, node: ast.Attribute) -> int:
        end = getattr(node, "end_col_offset", None)
        if end is None or getattr(node, "end_lineno", node.lineno) != node.lineno:
            return self.col(node)
        src = self.lines[node.lineno - 1] if 0 < node.lineno <= len(self.lines) else ""
        return len(src.encode("utf-8")[:end].decode("utf-8", "replace")) - len(node.attr) + 1

    # ------------------------------------------------------------------ statements

    def run(self) -> list[FlowEvent]:
        tests = [f for f in self.funcs.values() if f.name.startswith("test")]
        if tests:
            self.flavour = "pytest"
            if "browser_context_args" in self.funcs:
                self.context_args(self.funcs["browser_context_args"])
            for f in tests:
                if any(a.arg == "page" for a in f.args.posonlyargs + f.args.args + f.args.kwonlyargs):
                    self.mapper.fixture_page()
                self.block(f.body)
        else:
            if any(isinstance(f, ast.AsyncFunctionDef) for f in self.funcs.values()):
                self.flavour = "async"
            self.module(self.tree.body)
        return self.events

    def context_args(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """pytest-playwright's ``browser_context_args`` fixture (codegen --load-storage writes
        ``return {"storage_state": "auth.json"}``): the session it loads."""
        for node in ast.walk(fn):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value == "storage_state":
                        try:
                            self.mapper.note_session(self.value(v), self.site(v), self.col(v))
                        except _Unsupported as exc:
                            self.events.append(Unsupported(self._site_at(v, exc.column), exc.reason))

    def module(self, body: list[ast.stmt]) -> None:
        for s in body:
            if isinstance(s, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                continue  # a docstring
            if (
                isinstance(s, ast.If)
                and isinstance(s.test, ast.Compare)
                and ast.unparse(s.test).replace("'", '"') == '__name__ == "__main__"'
            ):
                self.module(s.body)
                continue
            self.stmt(s)

    def block(self, body: list[ast.stmt]) -> None:
        for s in body:
            self.stmt(s)

    def stmt(self, s: ast.stmt) -> None:
        try:
            self._stmt(s)
        except _Unsupported as exc:
            self.events.append(Unsupported(self._site_at(s, exc.column), exc.reason))

    def _site_at(self, node: ast.AST, column: int | None) -> Site:
        site = self.site(node)
        return Site(site.line, column or site.column, site.source_line)

    def _stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Pass) or (isinstance(s, ast.Return) and s.value is None):
            return
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return
        if isinstance(s, _CONTROL_FLOW):
            kind = type(s).__name__.lower().replace("async", "async ")
            raise _Unsupported(
                f"a '{kind}' statement: loops and conditionals in hand-written tests are out of "
                "scope; Reelwright imports straight-line codegen flows (unroll it)"
            )
        if isinstance(s, ast.ClassDef):
            raise _Unsupported(
                f"the class {s.name}: test classes are out of scope; Reelwright imports codegen's "
                "shape (a test function taking `page`, or a run(playwright) script)"
            )
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
            if self.handler(s).problem is None:  # def handle_dialog(dialog): dialog.accept()
                self.handlers[s.name] = s
                return
            raise _Unsupported("a nested definition: helper functions are out of scope; inline their steps")
        if isinstance(s, ast.Expr):
            self.expr_stmt(s)
            return
        if isinstance(s, ast.Assign | ast.AnnAssign):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Name) or s.value is None:
                raise _Unsupported("only simple assignments of pages and browser setup are supported")
            self.assignment(targets[0].id, s.value, s)
            return
        if isinstance(s, ast.With | ast.AsyncWith):
            self.with_stmt(s)
            return
        raise _Unsupported(f"a {type(s).__name__} statement is not part of a codegen flow")

    def expr_stmt(self, s: ast.Expr) -> None:
        node = s.value
        while isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.funcs:
            self.call_local(node.func.id, s)
            return
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) == "asyncio.run"
            and node.args
            and isinstance(node.args[0], ast.Call)
            and isinstance(node.args[0].func, ast.Name)
            and node.args[0].func.id in self.funcs
        ):
            self.call_local(node.args[0].func.id, s)
            return
        chain = self.chain(node)
        self.events.append(
            CallStmt(chain, self.site(s), opens_popup=self.popup_pending, download=self.download_pending)
        )
        self.popup_pending = self.download_pending = False

    def call_local(self, name: str, s: ast.stmt) -> None:
        fn = self.funcs[name]
        if name not in _FLOW_WRAPPERS:
            raise _Unsupported(
                f"calls the helper function {name}() (defined at line {fn.lineno}): helper "
                "functions are out of scope; inline its steps into the flow"
            )
        if name in self.inlined:
            raise _Unsupported(f"{name}() runs a second time; a flow is imported once")
        self.inlined.add(name)
        self.block(fn.body)

    def assignment(self, name: str, value: ast.expr, s: ast.stmt) -> None:
        node = value
        while isinstance(node, ast.Await):
            node = node.value
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "value"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.infos
        ):
            if self.infos[node.value.id] == "popup":
                self.events.append(PageAlias(name, self.site(s), from_popup=True))
            elif self.infos[node.value.id] == "download":
                self.mapper.note_download(name)
            return
        ev = self.mapper.setup_assignment(name, self.chain(node), self.site(s))
        if ev is not None:
            self.events.append(ev)

    def with_stmt(self, s: ast.With | ast.AsyncWith) -> None:
        popup = download = False
        for item in s.items:
            ctx = item.context_expr
            var = item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
            chain = self.chain(ctx)
            last = chain.segs[-1].name if chain.segs else ""
            event = chain.segs[-1].args[:1] if last == "expect_event" and chain.segs[-1].args else []
            if chain.root == "" and last in ("sync_playwright", "async_playwright"):
                if var:
                    self.mapper.setup_names.add(var)
            elif last in ("expect_popup", "expect_page") or event in (["popup"], ["page"]):
                # (context.expect_page(): a tab opened by a modifier-click — a popup of the page clicked)
                popup = True
                if var:
                    self.infos[var] = "popup"
            elif last == "expect_download" or event == ["download"]:
                download = True
                if var:
                    self.infos[var] = "download"
            elif last in (
                "expect_navigation",
                "expect_file_chooser",
                "expect_request",
                "expect_response",
                "expect_console_message",
                "expect_event",
                "expect_request_finished",
                "expect_load_state",
            ):
                if var:
                    self.infos[var] = last
            elif last in ("launch", "new_context", "launch_persistent_context"):
                self.mapper.note_setup_chain(chain, self.site(s))
                if var:
                    self.mapper.setup_names.add(var)
            else:
                raise _Unsupported(f"'with {chain.text()}' is not part of a codegen flow")
        if popup or download:
            self.popup_pending, self.download_pending = popup, download
            first_event = len(self.events)
            self.block(s.body)
            self.popup_pending = self.download_pending = False
            if not any(isinstance(e, CallStmt | Unsupported) for e in self.events[first_event:]):
                what = "expect_popup()" if popup else "expect_download()"
                raise _Unsupported(f"{what} with no action that opens the {'popup' if popup else 'download'}")
        else:
            self.block(s.body)


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def python_events(source: str, path: Path, mapper: FlowMapper) -> tuple[list[FlowEvent], str]:
    fe = PythonFrontEnd(source, path, mapper)
    events = fe.run()
    return events, f"python-{fe.flavour}"

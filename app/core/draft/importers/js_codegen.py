"""JavaScript / TypeScript codegen (library script and ``@playwright/test``) → flow events.

Parsed with tree-sitter's TypeScript grammar (a superset of the JavaScript codegen emits), never
evaluated.  Comments are ignored; codegen's library flavour comments its assertions out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import tree_sitter
import tree_sitter_typescript

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

Node = Any  # tree_sitter.Node (untyped package)

_TEST_FUNCS = frozenset(
    {
        "test",
        "it",
        "describe",
        "test.describe",
        "test.describe.serial",
        "test.describe.parallel",
        "test.describe.only",
        "test.only",
        "test.step",
        "test.beforeEach",
        "test.beforeAll",
        "test.describe.configure",
    }
)
_TEST_DROPPED = frozenset(
    {"test.use", "test.describe.configure", "test.setTimeout", "test.slow", "test.afterEach", "test.afterAll"}
)
_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


@lru_cache(maxsize=2)
def _parser(tsx: bool) -> Any:
    lang = tree_sitter.Language(
        tree_sitter_typescript.language_tsx() if tsx else tree_sitter_typescript.language_typescript()
    )
    return tree_sitter.Parser(lang)


def snake(name: str) -> str:
    """``getByRole`` → ``get_by_role``, ``toHaveURL`` → ``to_have_url``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _decode_js_string(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in _JS_ESCAPES:
            out.append(_JS_ESCAPES[n])
            i += 2
        elif n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", body[i + 2 : i + 4]):
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif n == "u" and body[i + 2 : i + 3] == "{":
            end = body.find("}", i + 3)
            if (
                end < 0
                or not re.fullmatch(r"[0-9a-fA-F]{1,6}", body[i + 3 : end])
                or int(body[i + 3 : end], 16) > 0x10FFFF
            ):
                raise _Unsupported("a malformed \\u{...} escape")
            out.append(chr(int(body[i + 3 : end], 16)))
            i = end + 1
        elif n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif n == "\n":
            i += 2  # a line continuation
        else:
            out.append(n)
            i += 2
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class JsFrontEnd:
    def __init__(self, source: str, path: Path, mapper: FlowMapper) -> None:
        self.path = path
        self.source = source
        self.data = source.encode("utf-8", "surrogatepass")
        self.lines = source.splitlines()
        self.mapper = mapper
        self.events: list[FlowEvent] = []
        self.promises: dict[
            str, str
        ] = {}  # `const page1Promise = page.waitForEvent('popup')` → {"page1Promise": "popup"}
        self.popup_pending = False
        self.download_pending = False
        self.helpers: dict[str, int] = {}
        self.flavour = "library"
        tree = _parser(path.suffix.lower() in (".tsx", ".jsx")).parse(self.data)
        self.root = tree.root_node
        bad = self._first_error(self.root)
        if bad is not None:
            site = self.site(bad)
            what = f"missing '{bad.type}'" if bad.is_missing else "a syntax error"
            raise CodegenImportError(
                [
                    SkippedLine(
                        path,
                        site.line,
                        site.column,
                        site.source_line,
                        f"not valid JavaScript/TypeScript: {what}",
                    )
                ]
            )

    def _first_error(self, node: Node) -> Node | None:
        if not node.has_error:
            return None
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "ERROR" or n.is_missing:
                return n
            stack.extend(c for c in reversed(n.children) if c.has_error or c.is_missing)
        return node

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def site(self, node: Node) -> Site:
        row, col_bytes = node.start_point
        line = row + 1
        src = self.lines[row] if row < len(self.lines) else ""
        col = len(src.encode("utf-8", "surrogatepass")[:col_bytes].decode("utf-8", "replace")) + 1
        return Site(line, col, src)

    def col(self, node: Node) -> int:
        return self.site(node).column

    # ------------------------------------------------------------------ values

    def value(self, node: Node) -> Value:
        t: str = node.type
        if t == "string":
            return _decode_js_string(self.text(node)[1:-1])
        if t == "template_string":
            if any(c.type == "template_substitution" for c in node.named_children):
                raise _Unsupported(
                    "a template string with ${...} is computed at run time; use a literal", self.col(node)
                )
            return _decode_js_string(self.text(node)[1:-1])
        if t == "number":
            raw = self.text(node).replace("_", "")
            try:
                return int(raw, 0) if re.fullmatch(r"0[xob][0-9a-f]+|\d+", raw, re.I) else float(raw)
            except ValueError:
                raise _Unsupported(f"the number {raw} is not supported", self.col(node)) from None
        if t in ("true", "false"):
            return t == "true"
        if t in ("null", "undefined"):
            return None
        if t == "array":
            return [self.value(c) for c in node.named_children if c.type != "comment"]
        if t == "object":
            out: dict[str, Value] = {}
            for c in node.named_children:
                if c.type == "comment":
                    continue
                if c.type != "pair":
                    raise _Unsupported("only key: value pairs are supported in objects", self.col(c))
                k = c.child_by_field_name("key")
                v = c.child_by_field_name("value")
                if k is None or v is None:
                    raise _Unsupported("a malformed object", self.col(c))
                key = self.value(k) if k.type == "string" else self.text(k)
                out[str(key)] = self.value(v)
            return out
        if t == "regex":
            pat = node.child_by_field_name("pattern")
            flags = node.child_by_field_name("flags")
            return Regex(self.text(pat) if pat is not None else "", self.text(flags) if flags is not None else "")
        if t == "unary_expression" and self.text(node).startswith("-"):
            inner = self.value(node.named_children[0])
            if isinstance(inner, int | float) and not isinstance(inner, bool):
                return -inner
        if t in ("arrow_function", "function_expression", "function"):
            return self.handler(node)
        if t in ("parenthesized_expression", "non_null_expression", "as_expression", "satisfies_expression"):
            return self.value(node.named_children[0])
        if t in ("identifier", "member_expression", "call_expression", "await_expression"):
            return self.chain(node)
        raise _Unsupported(f"this expression ({t}) is not supported", self.col(node))

    def handler(self, fn: Node) -> Handler:
        """A function literal read as a dialog handler: ``dialog => dialog.accept('x')``, codegen's
        ``dialog => { console.log(...); dialog.dismiss().catch(() => {}); }``, async and ``function``
        forms.  Anything else is a Handler with a problem, reported only if used for a dialog."""
        single = fn.child_by_field_name("parameter")
        params = [single] if single is not None else []
        plist = fn.child_by_field_name("parameters")
        if plist is not None:
            params = [c for c in plist.named_children if c.type != "comment"]
        names = []
        for prm in params:
            ident = prm if prm.type == "identifier" else prm.child_by_field_name("pattern")
            if ident is None or ident.type != "identifier":
                return Handler(problem="must take the dialog as its one parameter")
            names.append(self.text(ident))
        if len(names) != 1:
            return Handler(problem="must take the dialog as its one parameter")
        param = names[0]
        body = fn.child_by_field_name("body")
        stmts = list(body.named_children) if body is not None and body.type == "statement_block" else [body]
        found: list[Handler] = []
        for st in stmts:
            if st is None or st.type in ("comment", "empty_statement"):
                continue
            wrapped = st.type in ("expression_statement", "return_statement") and st.named_children
            expr = st.named_children[0] if wrapped else st
            call = self._unwrap_answer(expr)
            if call is None:
                return Handler(problem=f"must call {param}.accept() or {param}.dismiss() (and nothing else)")
            if isinstance(call, str):  # console.log(...)
                continue
            target, method, args = call
            if target != param:
                return Handler(problem=f"must call {param}.accept() or {param}.dismiss()")
            if method == "dismiss":
                found.append(Handler("dismiss") if not args else Handler(problem="dismiss() takes no arguments"))
            elif not args:
                found.append(Handler("accept"))
            elif len(args) == 1 and args[0].type in ("string", "template_string"):
                try:
                    text = self.value(args[0])
                except _Unsupported as exc:
                    return Handler(problem=f"accept(): {exc.reason}")
                found.append(Handler("accept", str(text)))
            else:
                found.append(Handler(problem="accept() takes the prompt text as a string literal"))
        if len(found) != 1:
            return Handler(problem=f"must call {param}.accept() or {param}.dismiss() exactly once")
        return found[0]

    def _unwrap_answer(self, expr: Node) -> tuple[str, str, list[Node]] | str | None:
        """``[await|void] x.accept(...)[.catch(...)]`` → (x, "accept", args); ``console.log(...)`` → "log"."""
        while expr.type in ("await_expression", "parenthesized_expression", "unary_expression"):
            if expr.type == "unary_expression" and not self.text(expr).startswith("void"):
                return None
            expr = expr.named_children[-1]
        if expr.type != "call_expression":
            return None
        fn = expr.child_by_field_name("function")
        if fn is None or fn.type != "member_expression":
            return None
        obj, prop = fn.child_by_field_name("object"), fn.child_by_field_name("property")
        if obj is None or prop is None:
            return None
        if self.text(prop) == "catch" and obj.type == "call_expression":
            return self._unwrap_answer(obj)
        if obj.type == "identifier" and self.text(obj) == "console":
            return "log"
        args_node = expr.child_by_field_name("arguments")
        args = [c for c in args_node.named_children if c.type != "comment"] if args_node is not None else []
        if obj.type == "identifier" and self.text(prop) in ("accept", "dismiss"):
            return self.text(obj), self.text(prop), args
        return None

    def storage_state(self, raw: list[Node]) -> dict[str, Value]:
        """The ``storageState`` of a context-options object (the only option the flow needs)."""
        for arg in raw:
            if arg.type != "object":
                continue
            for c in arg.named_children:
                if c.type != "pair":
                    continue
                k, v = c.child_by_field_name("key"), c.child_by_field_name("value")
                if k is not None and v is not None:
                    key = self.value(k) if k.type == "string" else self.text(k)
                    if key == "storageState":
                        return {"storage_state": self.value(v)}
        return {}

    def chain(self, node: Node) -> Chain:
        segs: list[Seg] = []
        cur = node
        while True:
            t = cur.type
            if t in ("await_expression", "parenthesized_expression", "non_null_expression"):
                cur = cur.named_children[-1]
                continue
            if t == "call_expression":
                fn = cur.child_by_field_name("function")
                args_node = cur.child_by_field_name("arguments")
                if args_node is None or args_node.type != "arguments":
                    raise _Unsupported("tagged templates are not supported", self.col(cur))
                raw = [c for c in args_node.named_children if c.type != "comment"]
                if any(c.type == "spread_element" for c in raw):
                    raise _Unsupported("...spread arguments are not supported", self.col(cur))
                name = (
                    self.text(fn.child_by_field_name("property"))
                    if fn is not None and fn.type == "member_expression"
                    else (self.text(fn) if fn is not None else "")
                )
                args: list[Value] = []
                kwargs: dict[str, Value] = {}
                if snake(name) not in SETUP_CALLS:
                    args, kwargs = self.arguments(snake(name), raw)
                else:  # launch/context options (devices...) are not replayed; a session is
                    kwargs = self.storage_state(raw)
                if fn is not None and fn.type == "member_expression":
                    prop = fn.child_by_field_name("property")
                    segs.insert(0, Seg(snake(self.text(prop)), True, args, kwargs, self.col(prop)))
                    cur = fn.child_by_field_name("object")
                    continue
                if fn is not None and fn.type == "identifier":
                    segs.insert(0, Seg(snake(self.text(fn)), True, args, kwargs, self.col(fn)))
                    return Chain("", segs, self.col(node))
                raise _Unsupported("this call is not supported", self.col(cur))
            if t == "member_expression":
                prop = cur.child_by_field_name("property")
                if prop is None or prop.type not in ("property_identifier", "private_property_identifier"):
                    raise _Unsupported("computed member access is not supported", self.col(cur))
                segs.insert(0, Seg(snake(self.text(prop)), False, [], {}, self.col(prop)))
                cur = cur.child_by_field_name("object")
                continue
            if t in ("identifier", "this"):
                return Chain(self.text(cur), segs, self.col(node))
            if t == "subscript_expression":
                raise _Unsupported("indexing with [...] is not supported", self.col(cur))
            raise _Unsupported(f"this expression ({t}) is not supported", self.col(cur))

    def arguments(self, method: str, raw: list[Node]) -> tuple[list[Value], dict[str, Value]]:
        args = [self.value(c) for c in raw]
        kwargs: dict[str, Value] = {}
        if args and isinstance(args[-1], dict):
            last = args[-1]
            positional_object = (
                method == "select_option" and len(args) == 1 and set(last) <= {"value", "label", "index"}
            )
            if not positional_object and method not in ("set_input_files",):
                kwargs = {snake(k): v for k, v in last.items()}
                args = args[:-1]
        return args, kwargs

    # ------------------------------------------------------------------ statements

    def run(self) -> list[FlowEvent]:
        for c in self.root.named_children:
            if c.type == "function_declaration":
                name = c.child_by_field_name("name")
                if name is not None:
                    self.helpers[self.text(name)] = c.start_point[0] + 1
        self.block(self.root.named_children, top=True)
        return self.events

    def block(self, nodes: list[Node], top: bool = False) -> None:
        for n in nodes:
            try:
                self.stmt(n, top)
            except _Unsupported as exc:
                site = self.site(n)
                self.events.append(
                    Unsupported(Site(site.line, exc.column or site.column, site.source_line), exc.reason)
                )

    def _body_of(self, fn: Node) -> list[Node]:
        body = fn.child_by_field_name("body")
        if body is None:
            return []
        if body.type == "statement_block":
            return list(body.named_children)
        return [body]  # an expression body

    def stmt(self, n: Node, top: bool) -> None:
        t = n.type
        if t in ("comment", "empty_statement", "import_statement", "hash_bang_line"):
            return
        if t == "function_declaration" and top:
            return
        if t in ("lexical_declaration", "variable_declaration"):
            for d in n.named_children:
                if d.type == "variable_declarator":
                    self.declarator(d, n)
            return
        if t == "expression_statement":
            expr = n.named_children[0]
            self.expression(expr, n)
            return
        if t == "statement_block":
            self.block(list(n.named_children))
            return
        if t in (
            "for_statement",
            "for_in_statement",
            "while_statement",
            "do_statement",
            "if_statement",
            "switch_statement",
            "try_statement",
        ):
            kind = {
                "for_statement": "for",
                "for_in_statement": "for",
                "while_statement": "while",
                "do_statement": "do-while",
                "if_statement": "if",
                "switch_statement": "switch",
                "try_statement": "try",
            }[t]
            raise _Unsupported(
                f"a '{kind}' statement: loops and conditionals in hand-written tests are out "
                "of scope; Reelwright imports straight-line codegen flows (unroll it)"
            )
        if t in ("function_declaration", "class_declaration"):
            raise _Unsupported("a nested definition: helper functions are out of scope; inline their steps")
        if t in ("return_statement",) and not n.named_children:
            return
        if t in ("type_alias_declaration", "interface_declaration"):
            return
        raise _Unsupported(f"a {t.replace('_', ' ')} is not part of a codegen flow")

    def declarator(self, d: Node, stmt: Node) -> None:
        name_node = d.child_by_field_name("name")
        value = d.child_by_field_name("value")
        if value is None:
            raise _Unsupported("a declaration without a value")
        inner = value
        while inner.type in ("await_expression", "parenthesized_expression"):
            inner = inner.named_children[-1]
        # require('playwright') / require('@playwright/test')
        if inner.type == "call_expression":
            fn = inner.child_by_field_name("function")
            if fn is not None and self.text(fn) == "require":
                if name_node is not None and name_node.type == "object_pattern":
                    for c in name_node.named_children:
                        self.mapper.setup_names.add(self.text(c).split(":")[-1].strip())
                return
        if name_node is not None and name_node.type == "array_pattern" and self._promise_all(inner, stmt, name_node):
            return
        if name_node is None or name_node.type != "identifier":
            raise _Unsupported("destructuring is only supported for require(...) and Promise.all([...])")
        name = self.text(name_node)
        if inner.type == "identifier" and self.text(inner) in self.promises:
            kind = self.promises[self.text(inner)]
            if kind in ("popup", "download"):
                pending = self.popup_pending if kind == "popup" else self.download_pending
                if pending:
                    self.popup_pending = self.download_pending = False
                    raise _Unsupported(f"no action between waitForEvent('{kind}') and here "
                                       f"{'opened the popup' if kind == 'popup' else 'started the download'}")
                if kind == "popup":
                    self.events.append(PageAlias(name, self.site(stmt), from_popup=True))
                else:
                    self.mapper.note_download(name)
            return
        chain = self.chain(inner)
        last = chain.segs[-1] if chain.segs else None
        if last is not None and last.name == "wait_for_event" and last.args:
            kind = str(last.args[0])
            if kind in ("popup", "page"):
                self.promises[name] = "popup"
                self.popup_pending = True
                return
            if kind == "download":
                self.promises[name] = "download"
                self.download_pending = True
                return
            if kind in ("filechooser", "dialog", "console", "request", "response"):
                self.promises[name] = kind
                return
            raise _Unsupported(f"waiting for the '{kind}' event is not supported")
        ev = self.mapper.setup_assignment(name, chain, self.site(stmt))
        if ev is not None:
            self.events.append(ev)

    def _promise_all(self, inner: Node, stmt: Node, pattern: Node | None) -> bool:
        """``[const [page1] =] await Promise.all([page.waitForEvent('popup'), page.click(...)])`` (older
        codegen; also 'download' and waitForNavigation): the action, marked as what it waits for, and
        the popup's or download's name.  False when ``inner`` is not a Promise.all."""
        if inner.type != "call_expression":
            return False
        fn = inner.child_by_field_name("function")
        if fn is None or self.text(fn) != "Promise.all":
            return False
        args = inner.child_by_field_name("arguments")
        arr = [c for c in args.named_children if c.type != "comment"] if args is not None else []
        if len(arr) != 1 or arr[0].type != "array":
            raise _Unsupported("Promise.all() takes one array literal here")
        items = [c for c in arr[0].named_children if c.type != "comment"]
        names: list[str | None] = []
        if pattern is not None:
            for c in pattern.named_children:
                if c.type == "comment":
                    continue
                names.append(self.text(c) if c.type == "identifier" else None)
        waits: list[tuple[int, str]] = []
        actions: list[Node] = []
        for i, item in enumerate(items):
            chain = self.chain(item)
            last = chain.segs[-1] if chain.segs else None
            lname = last.name if last is not None else ""
            if lname in ("wait_for_event", "wait_for_navigation", "wait_for_url", "wait_for_load_state"):
                kind = str(last.args[0]) if lname == "wait_for_event" and last is not None and last.args else lname
                if kind == "page":
                    kind = "popup"
                if lname == "wait_for_event" and kind not in ("popup", "download"):
                    raise _Unsupported(f"waiting for the '{kind}' event is not supported", chain.column)
                waits.append((i, kind))
            else:
                actions.append(item)
        if len(actions) != 1:
            raise _Unsupported("Promise.all() is supported around one action and what it waits for "
                               "(a popup, a download or a navigation)")
        kinds = {k for _, k in waits}
        self.events.append(CallStmt(self.chain(actions[0]), self.site(stmt), opens_popup="popup" in kinds,
                                    download="download" in kinds))
        for i, kind in waits:
            name = names[i] if i < len(names) else None
            if kind == "popup" and name is not None:
                self.events.append(PageAlias(name, self.site(stmt), from_popup=True))
            elif kind == "download" and name is not None:
                self.mapper.note_download(name)
        return True

    def expression(self, expr: Node, stmt: Node) -> None:
        inner = expr
        while inner.type in ("await_expression", "parenthesized_expression"):
            inner = inner.named_children[-1]
        if inner.type == "call_expression":
            fn = inner.child_by_field_name("function")
            args = inner.child_by_field_name("arguments")
            fn_inner = fn
            while fn_inner is not None and fn_inner.type == "parenthesized_expression":
                fn_inner = fn_inner.named_children[-1]
            if fn_inner is not None and fn_inner.type in (
                "arrow_function",
                "function_expression",
                "function",
            ):
                self.block(self._body_of(fn_inner))  # (async () => { ... })();
                return
            callee = self.text(fn) if fn is not None else ""
            if callee == "test.use":
                for arg in args.named_children if args is not None else []:
                    ss = self.storage_state([arg]).get("storage_state")
                    if ss is not None:
                        self.mapper.note_session(ss, self.site(stmt), self.col(arg))
                return
            if callee in _TEST_DROPPED:
                return
            if self._promise_all(inner, stmt, None):
                return
            if callee in _TEST_FUNCS:
                self.flavour = "test"
                funcs = [
                    c
                    for c in (args.named_children if args is not None else [])
                    if c.type in ("arrow_function", "function_expression", "function")
                ]
                if not funcs and callee != "test.describe.configure":
                    raise _Unsupported(f"{callee}(...) without a function body")
                for f in funcs:
                    params = f.child_by_field_name("parameters")
                    if params is not None and re.search(r"\bpage\b", self.text(params)):
                        self.mapper.fixture_page()  # async ({ page }) => ...: the first tab
                    self.block(self._body_of(f))
                return
            if fn is not None and fn.type == "identifier" and callee in self.helpers:
                raise _Unsupported(
                    f"calls the helper function {callee}() (defined at line {self.helpers[callee]}): "
                    "helper functions are out of scope; inline its steps into the flow"
                )
        chain = self.chain(expr)
        self.events.append(
            CallStmt(chain, self.site(stmt), opens_popup=self.popup_pending, download=self.download_pending)
        )
        self.popup_pending = self.download_pending = False


def js_events(source: str, path: Path, mapper: FlowMapper) -> tuple[list[FlowEvent], str]:
    fe = JsFrontEnd(source, path, mapper)
    events = fe.run()
    lang = "ts" if path.suffix.lower() in (".ts", ".tsx", ".mts", ".cts") else "js"
    return events, f"{lang}-{fe.flavour}"

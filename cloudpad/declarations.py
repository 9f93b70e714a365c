"""Parameter declarations: an article's ``parameters`` cell is the one place each input is declared.

Every line of the cell tagged ``parameters`` assigns one Python literal and
declares it in its comment::

    zgc_pause_ms = 1.0  # ms, 0.001..10000: ZGC's pause goal (published)
    provider = "aws"  # -, aws|azure|gcp: cloud of the prices
    instance_type = "c7i.large"  # -, in instance_prices.instance_type: one replica
    utilization_targets = [0.5, 0.7, 0.9]  # fraction, list of 1..6, each 0.05..0.99: compared
    # check: spike_rps > baseline_rps

The comment reads ``UNIT, ALLOWED: MEANING``:

* ``UNIT`` is the unit (``ms``, ``requests/s``, ``USD/month``), or ``-`` for none;
* ``ALLOWED`` is one of

  - ``LOW..HIGH``: a number in the closed interval (``inf`` allowed); a whole
    number when the default is an ``int``;
  - ``A|B|C``: one of these values (each read as a Python literal where it is
    one, else as text);
  - ``text``: any non-empty string (checked later against data by the article);
  - ``in DATASET.COLUMN``: a value found in that column of a dataset of
    ``data/`` (read through :func:`cloudpad.data.load`);
  - ``list of N..M, each ITEM`` (or ``list of N, each ITEM``): a list of N to M
    items, each allowed by ``ITEM`` (one of the forms above);

* ``MEANING`` says what the value is (mark assumptions as such).

A line may end with a tool pragma after the declaration, ``# fmt: skip`` (so
that ruff keeps a long list on its one line) or ``# noqa: ...``.

A line ``# check: EXPRESSION`` states a constraint between parameters
(comparisons, arithmetic, ``and``/``or``/``not``, ``len``/``min``/``max``/
``abs``/``sum`` over parameter names and numbers); it must hold.  A line
``# row: DATASET has COLUMN[=PARAMETER], ...`` says that the values together
name one row of a dataset (``# row: instance_prices has provider, region,
instance_type``): each column is matched by the parameter of the same name, or
by the one written after ``=``.

:func:`parse` reads a cell into :class:`Declarations`; :meth:`Declarations.check`
refuses values with a :class:`~cloudpad.exceptions.ParameterError` naming the
parameter, the value and what is allowed.  The pipeline checks ``-p`` and sweep
values with it before any kernel starts; :func:`cloudpad.article.parameters`
checks the same declaration again inside the kernel, so a notebook run by hand
in JupyterLab or by Papermill directly is checked too.
"""

from __future__ import annotations

import ast
import io
import math
import numbers
import operator
import re
import tokenize
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudpad.exceptions import NotebookError, ParameterError

__all__ = [
    "Choices",
    "Column",
    "Constraint",
    "Declaration",
    "Declarations",
    "ListOf",
    "Range",
    "Row",
    "Text",
    "parse",
]

#: The form of a declaration comment, shown in error messages.
FORM = "NAME = VALUE  # UNIT, ALLOWED: MEANING"
EXAMPLE = "service_ms = 25.0  # ms, 0.1..60000: mean service time of one request"

Lookup = Callable[[str, tuple[str, ...]], set[tuple[Any, ...]]]
"""``lookup(dataset, columns)``: the rows of those columns found in a dataset, as tuples.

Used for values declared ``in DATASET.COLUMN`` (one column) and ``# row:`` lines.
"""


def _number(text: str) -> float:
    value = float(text.replace("_", ""))  # "1e6", "inf", "-inf", "4_294_967_295"
    if math.isnan(value):
        raise ValueError("nan is not a bound")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value


def _show(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _exact(value: float) -> str:
    """``value`` as written back into a declaration: whole numbers without ``.0``, else repr."""
    if math.isinf(value) or not float(value).is_integer():
        return repr(float(value))
    return str(int(value))


@dataclass(frozen=True)
class Range:
    """A number in ``[low, high]``; whole when ``integer``."""

    low: float
    high: float
    integer: bool = False

    def ok(self, value: Any, lookup: Lookup | None = None) -> bool:
        if not _is_number(value):
            return False
        if self.integer and not float(value).is_integer():
            return False
        return self.low <= value <= self.high

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {_show(self.low)} to {_show(self.high)}"

    def spec(self) -> str:
        return f"{_exact(self.low)}..{_exact(self.high)}"


@dataclass(frozen=True)
class Choices:
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def ok(self, value: Any, lookup: Lookup | None = None) -> bool:
        return any(
            value == v and isinstance(value, bool) == isinstance(v, bool) for v in self.values
        )

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))

    def spec(self) -> str:
        return "|".join(str(v) for v in self.values)


@dataclass(frozen=True)
class Text:
    """Any non-empty string (the article checks it against its data)."""

    def ok(self, value: Any, lookup: Lookup | None = None) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def describe(self) -> str:
        return "a non-empty string"

    def spec(self) -> str:
        return "text"


@dataclass(frozen=True)
class Column:
    """A value found in a column of a dataset of ``data/``."""

    dataset: str
    column: str

    def ok(self, value: Any, lookup: Lookup | None = None) -> bool:
        if isinstance(value, str):
            if not value.strip():
                return False
        elif not _is_number(value):
            return False
        return lookup is None or (value,) in lookup(self.dataset, (self.column,))

    def describe(self) -> str:
        return f"a value of column {self.column!r} of dataset {self.dataset!r}"

    def spec(self) -> str:
        return f"in {self.dataset}.{self.column}"


Item = Range | Choices | Text | Column


@dataclass(frozen=True)
class ListOf:
    """A list of ``low_len`` to ``high_len`` items, each allowed by ``item``."""

    low_len: int
    high_len: int
    item: Item

    def ok(self, value: Any, lookup: Lookup | None = None) -> bool:
        if not isinstance(value, (list, tuple)):
            return False
        if not self.low_len <= len(value) <= self.high_len:
            return False
        return all(self.item.ok(v, lookup) for v in value)

    def describe(self) -> str:
        count = (
            f"{self.low_len}"
            if self.low_len == self.high_len
            else f"{self.low_len} to {self.high_len}"
        )
        return f"a list of {count} items, each {self.item.describe()}"

    def spec(self) -> str:
        count = (
            f"{self.low_len}"
            if self.low_len == self.high_len
            else f"{self.low_len}..{self.high_len}"
        )
        return f"list of {count}, each {self.item.spec()}"


Allowed = Item | ListOf


@dataclass(frozen=True)
class Declaration:
    """One parameter: name, default, unit, what is allowed and what it means.

    ``line`` is its line in the parameters cell (1-based).
    """

    name: str
    default: Any
    unit: str
    allowed: Allowed
    meaning: str
    line: int = 0

    @property
    def label(self) -> str:
        """``meaning (unit)`` for axes and controls; the meaning alone when there is no unit."""
        return f"{self.meaning} ({self.unit})" if self.unit else self.meaning

    @property
    def is_list(self) -> bool:
        return isinstance(self.allowed, ListOf)

    @property
    def numeric(self) -> bool:
        """Whether the parameter is one number (a range)."""
        return isinstance(self.allowed, Range)

    def describe(self) -> str:
        """What is allowed, in words, with the unit (for error messages and ``cloudpad params``)."""
        return self.allowed.describe() + (f" ({self.unit})" if self.unit else "")

    def problem(self, value: Any, lookup: Lookup | None = None) -> str | None:
        """``None`` if ``value`` is allowed, else one sentence saying why not."""
        if self.allowed.ok(value, lookup):
            return None
        return f"parameter {self.name!r} = {value!r} is not allowed: it must be {self.describe()}"

    def comment(self) -> str:
        """The declaration comment as it is written in the cell (normalised)."""
        return f"{self.unit or '-'}, {self.allowed.spec()}: {self.meaning}"


# --- constraints ----------------------------------------------------------------------

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "sum": sum,
}


@dataclass(frozen=True)
class Constraint:
    """A ``# check: EXPRESSION`` line: a condition between parameters that must hold."""

    expression: str
    line: int = 0
    tree: ast.Expression = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @classmethod
    def parse(cls, expression: str, line: int, names: set[str], where: str) -> Constraint:
        try:
            tree = ast.parse(expression, mode="eval")
        except SyntaxError:
            raise NotebookError(
                f"{where}, line {line}: '# check: {expression}' is not a Python expression"
            ) from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in names and node.id not in _FUNCTIONS:
                raise NotebookError(
                    f"{where}, line {line}: '# check: {expression}' names {node.id!r}, which is "
                    "not a parameter of this cell"
                )
            allowed = (
                ast.Expression,
                ast.BoolOp,
                ast.And,
                ast.Or,
                ast.UnaryOp,
                ast.Not,
                ast.USub,
                ast.UAdd,
                ast.BinOp,
                ast.Compare,
                ast.Name,
                ast.Load,
                ast.Constant,
                ast.Call,
                ast.Subscript,
                ast.List,
                ast.Tuple,
                *_BINARY,
                *_COMPARE,
            )
            if not isinstance(node, allowed):
                raise NotebookError(
                    f"{where}, line {line}: '# check: {expression}' uses "
                    f"{type(node).__name__}; a check may use comparisons, arithmetic, and/or/not, "
                    f"indexing and {', '.join(_FUNCTIONS)}"
                )
        return cls(expression, line, tree)

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``values`` (by name)."""
        return bool(_evaluate(self.tree.body, values))


def _evaluate(node: ast.AST, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id] if node.id in values else _FUNCTIONS[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(e, values) for e in node.elts]
    if isinstance(node, ast.Subscript):
        return _evaluate(node.value, values)[_evaluate(node.slice, values)]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}[
            type(node.op)
        ](operand)
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.BoolOp):
        results = (_evaluate(v, values) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, values)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(right_node, values)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _FUNCTIONS[node.func.id](*(_evaluate(a, values) for a in node.args))
    raise TypeError(f"cannot evaluate {ast.dump(node)}")  # refused by Constraint.parse


@dataclass(frozen=True)
class Row:
    """A ``# row: DATASET has COLUMN[=PARAMETER], ...`` line: the values name one row of a dataset.

    ``pairs`` maps each column to the parameter whose value it must hold (a
    column written alone is matched by the parameter of the same name).
    """

    dataset: str
    pairs: tuple[tuple[str, str], ...]
    line: int = 0

    @classmethod
    def parse(cls, text: str, line: int, names: set[str], where: str) -> Row:
        match = re.match(r"^([A-Za-z_][\w-]*) has (.+)$", text)
        if not match:
            raise NotebookError(
                f"{where}, line {line}: '# row: {text}' must read "
                "'# row: DATASET has COLUMN[=PARAMETER], ...'"
            )
        pairs = []
        for item in match.group(2).split(","):
            column, _, parameter = item.strip().partition("=")
            column, parameter = column.strip(), (parameter.strip() or column.strip())
            if parameter not in names:
                raise NotebookError(
                    f"{where}, line {line}: '# row: {text}' names {parameter!r}, which is not a "
                    "parameter of this cell"
                )
            pairs.append((column, parameter))
        return cls(match.group(1), tuple(pairs), line)

    def holds(self, values: Mapping[str, Any], lookup: Lookup) -> bool:
        columns = tuple(c for c, _ in self.pairs)
        return tuple(values[p] for _, p in self.pairs) in lookup(self.dataset, columns)

    def describe(self, values: Mapping[str, Any]) -> str:
        shown = ", ".join(f"{p} = {values[p]!r}" for _, p in self.pairs)
        columns = ", ".join(c for c, _ in self.pairs)
        return f"no row of dataset {self.dataset!r} has these values of {columns}: {shown}"


# --- the cell ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declarations(Mapping[str, Declaration]):
    """The declarations of one parameters cell, in cell order, and its constraints."""

    declared: tuple[Declaration, ...]
    constraints: tuple[Constraint, ...] = ()
    where: str = "the parameters cell"
    rows: tuple[Row, ...] = ()

    def __getitem__(self, name: str) -> Declaration:
        for d in self.declared:
            if d.name == name:
                return d
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (d.name for d in self.declared)

    def __len__(self) -> int:
        return len(self.declared)

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default value, by name."""
        return {d.name: d.default for d in self.declared}

    def problems(self, values: Mapping[str, Any], lookup: Lookup | None = None) -> list[str]:
        """One sentence per value that is not allowed, then per constraint that fails.

        ``values`` maps names to values; a declared name missing from it takes
        its default (for constraints).  Constraints are checked only when every
        value is allowed; ``# row:`` lines only with a ``lookup``.
        """
        found = []
        for d in self.declared:
            if d.name in values:
                problem = d.problem(values[d.name], lookup)
                if problem:
                    found.append(problem)
        if found:
            return found
        merged = {**self.defaults(), **{k: v for k, v in values.items() if k in self}}
        for c in self.constraints:
            if not c.holds(merged):
                names = sorted(
                    {n.id for n in ast.walk(c.tree) if isinstance(n, ast.Name)} & set(self)
                )
                shown = ", ".join(f"{n} = {merged[n]!r}" for n in names)
                found.append(f"the parameters must satisfy {c.expression}; got {shown}")
        if lookup is not None:
            found += [row.describe(merged) for row in self.rows if not row.holds(merged, lookup)]
        return found

    def check(
        self, values: Mapping[str, Any], lookup: Lookup | None = None, where: str | None = None
    ) -> None:
        """Raise :class:`ParameterError` with the first problem (prefixed with ``where``)."""
        found = self.problems(values, lookup)
        if found:
            prefix = f"{where}: " if where else ""
            raise ParameterError(prefix + found[0])


_ALLOWED_LIST = re.compile(r"^list of (\d+)(?:\.\.(\d+))?, each (.+)$")
_RANGE = re.compile(r"^(\S+)\.\.(\S+)$")
_COLUMN = re.compile(r"^in ([A-Za-z_][\w-]*)\.([A-Za-z_]\w*)$")


def _literal(token: str) -> Any:
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return token
    return value if isinstance(value, (int, float, str, bool)) else token


def _item(spec: str, default: Any) -> Item:
    """One item's allowed values from ``spec``; ``default`` (an item) says int or float."""
    spec = spec.strip()
    if spec == "text":
        return Text()
    column = _COLUMN.match(spec)
    if column:
        return Column(column.group(1), column.group(2))
    bounds = _RANGE.match(spec)
    if bounds and "|" not in spec:
        low, high = _number(bounds.group(1)), _number(bounds.group(2))
        if low > high:
            raise ValueError(f"the range {spec} is empty (its low end is above its high end)")
        integer = isinstance(default, int) and not isinstance(default, bool)
        return Range(low, high, integer)
    if "|" in spec:
        values = tuple(_literal(t.strip()) for t in spec.split("|"))
        if any(not str(v).strip() for v in values):
            raise ValueError(f"the choices {spec!r} include an empty one")
        return Choices(values)
    raise ValueError(
        f"{spec!r} is not LOW..HIGH, A|B|C, text, in DATASET.COLUMN or list of N..M, each ITEM"
    )


def _allowed(spec: str, default: Any) -> Allowed:
    listed = _ALLOWED_LIST.match(spec.strip())
    if listed:
        low = int(listed.group(1))
        high = int(listed.group(2)) if listed.group(2) else low
        if low > high:
            raise ValueError(f"the length {low}..{high} is empty")
        sample = default[0] if isinstance(default, (list, tuple)) and default else 0.0
        return ListOf(low, high, _item(listed.group(3), sample))
    if isinstance(default, (list, tuple)):
        raise ValueError("a list parameter needs 'list of N..M, each ITEM'")
    return _item(spec, default)


#: Tool pragmas a line may end with, after its declaration (``# fmt: skip`` keeps ruff from
#: wrapping a long list onto several lines); they are not part of the meaning.
_PRAGMA = re.compile(r"\s*#\s*(?:fmt:\s*skip|noqa\b[^#]*)\s*$")


def _comments(source: str) -> dict[int, str]:
    """Comment text by line number (without the ``#`` and without a trailing tool pragma)."""
    found: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                text = token.string[1:]
                while _PRAGMA.search(text):
                    text = _PRAGMA.sub("", text)
                found[token.start[0]] = text.strip()
    except (tokenize.TokenError, IndentationError):
        pass  # ast.parse reports the syntax error
    return found


def parse(source: str, where: str = "the parameters cell") -> Declarations:
    """The declarations of a parameters cell's ``source``.

    Raises :class:`NotebookError` naming ``where`` and the line for anything
    that is not one declared assignment of a literal, a ``# check:`` line, a
    blank line or another whole-line comment.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookError(f"{where}, line {exc.lineno}: not valid Python: {exc.msg}") from None
    comments = _comments(source)
    items: list[Declaration] = []
    seen: set[str] = set()
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            raise NotebookError(
                f"{where}, line {node.lineno}: only assignments of one name are allowed ({FORM})"
            )
        name = node.targets[0].id
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise NotebookError(
                f"{where}, line {node.lineno}: parameter {name!r} must be a Python literal "
                "(number, string, bool, list of them), so `-p` can override it"
            ) from None
        if name in seen:
            raise NotebookError(
                f"{where}, line {node.lineno}: parameter {name!r} is assigned twice"
            )
        seen.add(name)
        comment = comments.get(node.end_lineno or node.lineno) or comments.get(node.lineno)
        items.append(_declaration(name, default, comment, node.lineno, where))
    constraints, rows = [], []
    for line, text in sorted(comments.items()):
        if text.startswith("check:"):
            constraints.append(Constraint.parse(text[len("check:") :].strip(), line, seen, where))
        elif text.startswith("row:"):
            rows.append(Row.parse(text[len("row:") :].strip(), line, seen, where))
    return Declarations(tuple(items), tuple(constraints), where, tuple(rows))


def _declaration(
    name: str, default: Any, comment: str | None, line: int, where: str
) -> Declaration:
    def refuse(why: str) -> NotebookError:
        return NotebookError(
            f"{where}, line {line}: parameter {name!r} {why}; declare it as "
            f"`{FORM}`, e.g. `{EXAMPLE}`"
        )

    if not comment:
        raise refuse("has no declaration comment")
    unit, sep, rest = comment.partition(", ")
    allowed_text, sep2, meaning = rest.partition(": ")
    if not sep or not sep2 or not unit.strip() or not meaning.strip():
        raise refuse(f"has the comment {comment!r}, which is not 'UNIT, ALLOWED: MEANING'")
    try:
        allowed = _allowed(allowed_text, default)
    except ValueError as exc:
        raise refuse(f"allows {allowed_text!r}, which cannot be read: {exc}") from None
    unit = "" if unit.strip() == "-" else unit.strip()
    declaration = Declaration(name, default, unit, allowed, meaning.strip(), line)
    if not allowed.ok(default):  # dataset columns are looked up only when a value is checked
        raise refuse(
            f"has the default {default!r}, which its own declaration does not allow "
            f"({declaration.describe()})"
        )
    return declaration

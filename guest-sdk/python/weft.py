"""Write weft solids in Python.

A solid is a function with typed parameters, marked ``@solid``::

    from weft import solid, Context

    @solid(inputs={"greeting": "The greeting to extend"})
    def salutation(ctx: Context, greeting: str) -> str:
        ctx.info(f"extending {greeting!r}")
        return f"{greeting} Dagster!"

Every parameter but the ``Context`` is an input named after it, typed by its
annotation; the return value is the output ``result`` (rename it with
``output="name"``, or declare several with ``outputs={"a": str, "b": int}`` and return
a dict). ``weft build`` turns the file into a WebAssembly component with
componentize-py; this module and the contract's bindings are built into it.

| Python annotation            | weft type |
|------------------------------|-----------|
| ``bool``                     | boolean   |
| ``int``                      | integer   |
| ``float``                    | float     |
| ``str``                      | text      |
| ``bytes``                    | bytes     |
| ``Json``, ``dict``, ``list`` | json      |
| ``Any`` (or none)            | any       |
| ``None``                     | nothing   |
| ``Optional[T]``              | optional  |
| ``Many[T]`` (input)          | fan-in    |
"""

import json
import sys
import typing
from typing import Any, Callable, Dict, List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import context as _context
from wit_world.imports import key_value as _kv
from wit_world.imports import secrets as _secrets
from wit_world.imports import sql as _sql
from wit_world.imports import types as _t

__all__ = [
    "solid", "Context", "Failure", "Json", "Many", "Guest",
    "Sql", "KeyValue", "Secrets", "ResourceError",
    "Url", "Markdown", "Path",
]


class Json:
    """Marks a parameter or return value as a JSON document (any JSON-able value)."""


class _ManyMarker:
    def __getitem__(self, item):
        return ("many", item)


#: ``Many[T]``: an input fed by several upstream outputs, received as a list.
Many = _ManyMarker()


class Failure(Exception):
    """Raise it to fail the step with a message, metadata and whether a retry may help."""

    def __init__(self, message: str, retryable: bool = False, metadata: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.metadata = metadata or {}


class ResourceError(Exception):
    """A resource call failed: ``kind`` is ``denied``, ``invalid`` or ``unavailable``."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}" if kind != "invalid" else message)
        self.kind = kind
        self.message = message


class Url(str):
    """A metadata value shown as a link."""


class Markdown(str):
    """A metadata value rendered as Markdown."""


class Path(str):
    """A metadata value naming a file."""


def _metadata(entries: Optional[Dict[str, Any]]) -> List[_t.MetadataEntry]:
    out = []
    for label, value in (entries or {}).items():
        if isinstance(value, Url):
            v = _t.MetadataValue_Url(str(value))
        elif isinstance(value, Markdown):
            v = _t.MetadataValue_Markdown(str(value))
        elif isinstance(value, Path):
            v = _t.MetadataValue_Path(str(value))
        elif isinstance(value, bool):
            v = _t.MetadataValue_Boolean(value)
        elif isinstance(value, int):
            v = _t.MetadataValue_Integer(value)
        elif isinstance(value, float):
            v = _t.MetadataValue_Float(value)
        elif isinstance(value, (dict, list)):
            v = _t.MetadataValue_Json(json.dumps(value))
        else:
            v = _t.MetadataValue_Text(str(value))
        out.append(_t.MetadataEntry(label, v))
    return out


# --- types ---

_SCALARS = {
    bool: _t.ValueType.BOOLEAN,
    int: _t.ValueType.INTEGER,
    float: _t.ValueType.FLOAT,
    str: _t.ValueType.TEXT,
    bytes: _t.ValueType.BYTES,
    dict: _t.ValueType.JSON,
    list: _t.ValueType.JSON,
    Json: _t.ValueType.JSON,
}


def _describe_type(annotation) -> tuple:
    """(value type, optional, multiple) of an annotation."""
    if isinstance(annotation, tuple) and annotation and annotation[0] == "many":
        value_type, _, _ = _describe_type(annotation[1])
        return value_type, True, True
    if annotation is None or annotation is type(None):
        return _t.ValueType.NOTHING, False, False
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        value_type, _, _ = _describe_type(args[0] if len(args) == 1 else Any)
        return value_type, True, False
    if origin in (dict, list):
        return _t.ValueType.JSON, False, False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False, False
    return _t.ValueType.ANY, False, False


def _from_wit(value) -> Any:
    if isinstance(value, _t.Value_Null):
        return None
    if isinstance(value, _t.Value_Json):
        return json.loads(value.value)
    return value.value


def _to_wit(value, value_type) -> Any:
    if value_type == _t.ValueType.JSON:
        return _t.Value_Json(json.dumps(value))
    if value is None:
        return _t.Value_Null()
    if isinstance(value, bool):
        return _t.Value_Boolean(value)
    if isinstance(value, int):
        if value_type == _t.ValueType.FLOAT:
            return _t.Value_Float(float(value))
        return _t.Value_Integer(value)
    if isinstance(value, float):
        return _t.Value_Float(value)
    if isinstance(value, str):
        return _t.Value_Text(value)
    if isinstance(value, (bytes, bytearray)):
        return _t.Value_Bytes(bytes(value))
    if isinstance(value, (dict, list)):
        return _t.Value_Json(json.dumps(value))
    raise Failure(f"cannot send a {type(value).__name__} as a weft value")


# --- the context ---

class Context:
    """What the host offers a solid while it computes."""

    def log(self, level: str, message: str) -> None:
        _context.log(getattr(_t.LogLevel, level.upper()), message)

    def debug(self, message: str) -> None:
        self.log("debug", message)

    def info(self, message: str) -> None:
        self.log("info", message)

    def warn(self, message: str) -> None:
        self.log("warn", message)

    def error(self, message: str) -> None:
        self.log("error", message)

    @property
    def run_id(self) -> str:
        return _context.run_id()

    @property
    def step_key(self) -> str:
        return _context.step_key()

    @property
    def attempt(self) -> int:
        return _context.attempt()

    @property
    def partition_key(self) -> Optional[str]:
        return _context.partition_key()

    @property
    def config(self) -> Any:
        """The step's config, validated against the solid's schema, defaults filled in."""
        return json.loads(_context.config())

    def yield_output(self, name: str, value: Any) -> None:
        """Produces output ``name`` now, so that it is recorded at once."""
        value_type = _SOLID.output_types.get(name, _t.ValueType.ANY) if _SOLID else _t.ValueType.ANY
        try:
            _context.yield_output(name, _to_wit(value, value_type))
        except Err as e:
            raise Failure(str(e.value))

    def expectation(self, label: str, success: bool, description: Optional[str] = None,
                    metadata: Optional[Dict[str, Any]] = None) -> None:
        """Records a data-quality check (Dagster's ExpectationResult)."""
        _context.report_expectation(_t.ExpectationResult(success, label, description, _metadata(metadata)))

    def materialization(self, asset_key: str, description: Optional[str] = None,
                        metadata: Optional[Dict[str, Any]] = None) -> None:
        """Records that the solid produced or updated an asset (Dagster's AssetMaterialization)."""
        _context.report_materialization(_t.Materialization(asset_key, description, _metadata(metadata)))


# --- resources ---

def _resource_call(call, *args):
    try:
        return call(*args)
    except Err as e:
        error = e.value
        kind = type(error).__name__.split("_")[-1].lower()
        raise ResourceError(kind, error.value)


class KeyValue:
    """A key-value store resource, by the name the mode binds it under."""

    def __init__(self, name: str):
        self.name = name

    def get(self, key: str) -> Optional[bytes]:
        return _resource_call(_kv.get, self.name, key)

    def set(self, key: str, value) -> None:
        data = value.encode() if isinstance(value, str) else bytes(value)
        _resource_call(_kv.set, self.name, key, data)

    def delete(self, key: str) -> bool:
        return _resource_call(_kv.delete, self.name, key)

    def keys(self, prefix: str = "") -> List[str]:
        return _resource_call(_kv.keys, self.name, prefix)

    def increment(self, key: str, delta: int = 1) -> int:
        return _resource_call(_kv.increment, self.name, key, delta)


def _sql_value(value):
    if value is None:
        return _sql.SqlValue_Null()
    if isinstance(value, bool):
        return _sql.SqlValue_Boolean(value)
    if isinstance(value, int):
        return _sql.SqlValue_Integer(value)
    if isinstance(value, float):
        return _sql.SqlValue_Float(value)
    if isinstance(value, (bytes, bytearray)):
        return _sql.SqlValue_Bytes(bytes(value))
    return _sql.SqlValue_Text(str(value))


class Sql:
    """A SQL database resource. Parameters are ``$1``, ``$2``, ... on every backend."""

    def __init__(self, name: str):
        self.name = name

    def query(self, statement: str, *params) -> List[Dict[str, Any]]:
        """The rows, each a dict from column name to value."""
        rows = _resource_call(_sql.query, self.name, statement, [_sql_value(p) for p in params])
        return [
            {column: (None if isinstance(v, _sql.SqlValue_Null) else v.value) for column, v in zip(rows.columns, row)}
            for row in rows.rows
        ]

    def execute(self, statement: str, *params) -> int:
        return _resource_call(_sql.execute, self.name, statement, [_sql_value(p) for p in params])

    def transaction(self, statements) -> List[int]:
        """``statements``: a list of (sql, [params]); all take effect or none."""
        converted = [_sql.Statement(text, [_sql_value(p) for p in params]) for text, params in statements]
        return _resource_call(_sql.transaction, self.name, converted)


class Secrets:
    """A secrets resource. The host masks the values in logs and failures."""

    def __init__(self, name: str):
        self.name = name

    def get(self, key: str) -> str:
        return _resource_call(_secrets.get, self.name, key)


# --- the solid ---

_KINDS = {
    "sql": _t.ResourceKind.SQL,
    "key_value": _t.ResourceKind.KEY_VALUE,
    "http": _t.ResourceKind.HTTP,
    "secrets": _t.ResourceKind.SECRETS,
}


class _Solid:
    def __init__(self, function: Callable, name, description, version, inputs, output, outputs,
                 config_schema, resources, tags):
        self.function = function
        hints = typing.get_type_hints(function)
        # Read once: each parameter's name and whether it takes the Context.
        self.parameters = [
            (p, hints.get(p) is Context) for p in function.__code__.co_varnames[: function.__code__.co_argcount]
        ]
        self.inputs = []
        for parameter, is_context in self.parameters:
            annotation = hints.get(parameter, Any)
            if is_context:
                continue
            value_type, optional, multiple = _describe_type(annotation)
            self.inputs.append(_t.InputDef(parameter, (inputs or {}).get(parameter, ""), value_type, optional, multiple))
        if outputs:
            declared = [(n, spec) for n, spec in outputs.items()]
        else:
            declared = [(output or "result", hints.get("return", Any))]
        self.outputs = []
        for out_name, spec in declared:
            annotation, text = spec if isinstance(spec, tuple) and spec and spec[0] != "many" else (spec, "")
            value_type, optional, _ = _describe_type(annotation)
            self.outputs.append(_t.OutputDef(out_name, text, value_type, optional))
        self.output_types = {o.name: o.type for o in self.outputs}
        self.several = bool(outputs)
        doc = (function.__doc__ or "").strip()
        self.definition = _t.SolidDef(
            name=name or function.__name__,
            description=description if description is not None else doc,
            version=version,
            inputs=self.inputs,
            outputs=self.outputs,
            config_schema=json.dumps(config_schema) if config_schema is not None else None,
            resources=[_t.ResourceNeed(n, _KINDS[k]) for n, k in (resources or {}).items()],
            tags=list((tags or {}).items()),
        )

    def compute(self, raw: List[_t.NamedValue]) -> List[_t.NamedValue]:
        fed: Dict[str, list] = {}
        for named in raw:
            fed.setdefault(named.name, []).append(_from_wit(named.value))
        args = []
        for parameter, is_context in self.parameters:
            if is_context:
                args.append(Context())
                continue
            definition = next(i for i in self.inputs if i.name == parameter)
            values = fed.get(parameter, [])
            args.append(values if definition.multiple else (values[0] if values else None))
        returned = self.function(*args)
        if self.several:
            produced = returned or {}
        elif self.outputs[0].type == _t.ValueType.NOTHING:
            produced = {self.outputs[0].name: None}
        else:
            produced = {self.outputs[0].name: returned}
        result = []
        for output in self.outputs:
            if output.name not in produced:
                continue
            value = produced[output.name]
            if value is None and output.optional:
                continue
            result.append(_t.NamedValue(output.name, _to_wit(value, output.type)))
        return result


_SOLID: Optional[_Solid] = None


def solid(function=None, *, name=None, description=None, version="1", inputs=None, output=None, outputs=None,
          config_schema=None, resources=None, tags=None):
    """Marks a function as the solid of this component. See the module docs."""

    def register(f):
        global _SOLID
        _SOLID = _Solid(f, name, description, version, inputs, output, outputs, config_schema, resources, tags)
        return f

    return register(function) if function is not None else register


class Guest(exports.Guest):
    """The contract's export; componentize-py finds it in the built entry module."""

    def describe(self) -> _t.SolidDef:
        if _SOLID is None:
            raise RuntimeError("no function is marked @solid")
        return _SOLID.definition

    def compute(self, inputs: List[_t.NamedValue]) -> List[_t.NamedValue]:
        try:
            return _SOLID.compute(inputs)
        except Failure as failure:
            raise Err(_t.Failure(failure.message, failure.retryable, _metadata(failure.metadata)))
        except ResourceError as error:
            raise Err(_t.Failure(str(error), error.kind == "unavailable", []))
        finally:
            # stdout is block-buffered (not a terminal): flush it into the compute log.
            sys.stdout.flush()
            sys.stderr.flush()

"""Django settings checks (DJG1xx visitors).

A Django settings module is plain Python whose module-level names are the settings. These
visitors read the module-level assignments of ``DATABASES``, ``CACHES``, ``MAILERS`` and the
``EMAIL_*`` settings (also inside module-level ``if``/``try``/``with`` blocks, never inside a
function or class) and judge only what they can see: a dict literal whose entries are dict
literals with a literal ``ENGINE``/``BACKEND``. A value built by a call, a ``**`` spread, an
``OPTIONS`` from a variable, or a module that changes the setting after assigning it
(``DATABASES["default"]["OPTIONS"] = ...``, ``CACHES.update(...)``) is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import libcst as cst

from linter.python.analyzer import Visitor, literal
from linter.python.hooks.statements import module_statements, top_statements

# --------------------------------------------------------------------------- module-level statements

_MISSING = object()  # a key the dict literal does not have
_OPAQUE = object()  # a value that cannot be seen statically


def _root_name(node: cst.BaseExpression) -> str | None:
    """``DATABASES`` for ``DATABASES``, ``DATABASES["default"]["OPTIONS"]``, ``DATABASES.update``."""
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


class _Settings:
    """The module-level assignments of a settings module."""

    def __init__(self, module: cst.Module) -> None:
        self.assigned: dict[str, list[tuple[int, cst.BaseExpression, cst.CSTNode]]] = {}
        self.changed: set[str] = set()  # names changed after assignment (subscripts, methods, augmented)
        # entries added one by one: `DATABASES["replica"] = {...}`
        self.added: dict[str, list[tuple[int, cst.BaseExpression, cst.BaseExpression]]] = {}
        self.star_import = False
        for i, small in module_statements(module):
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    self._target(i, target.target, small.value, target.target)
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                self._target(i, small.target, small.value, small.target)
            elif isinstance(small, cst.AugAssign):
                name = _root_name(small.target)
                if name:
                    self.changed.add(name)
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                if isinstance(func, cst.Attribute):
                    name = _root_name(func.value)
                    if name:
                        self.changed.add(name)  # DATABASES["default"].update(...), CACHES.setdefault(...)
            elif isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                self.star_import = True
        # names changed anywhere in the module (also in a function: `def configure(): DATABASES[...] = ...`)
        self._scan_changes(module)

    def _target(self, i: int, target: cst.BaseExpression, value: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.assigned.setdefault(target.value, []).append((i, value, node))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                name = _root_name(el.value)
                if name:
                    self.changed.add(name)  # unpacked: the value is not in sight
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and _entry_key(target) is not None:
            self.added.setdefault(target.value.value, []).append((i, _entry_key(target), value))  # type: ignore[arg-type]
        else:
            name = _root_name(target)
            if name:
                self.changed.add(name)

    def _scan_changes(self, module: cst.Module) -> None:
        changed = self.changed

        class Scan(cst.CSTVisitor):
            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
                    for small in top_statements([stmt]):
                        if isinstance(small, cst.Assign):
                            for t in small.targets:
                                if not isinstance(t.target, cst.Name):
                                    name = _root_name(t.target)
                                    if name:
                                        changed.add(name)
                        elif isinstance(small, cst.Global):
                            changed.update(n.name.value for n in small.names)

        for stmt in module.body:
            if isinstance(stmt, cst.FunctionDef):
                stmt.visit(Scan())

    def values(self, name: str) -> list[tuple[int, cst.BaseExpression, cst.CSTNode]]:
        return self.assigned.get(name, [])

    def entries(self, name: str) -> Iterator[tuple[int, cst.BaseExpression, cst.BaseExpression]]:
        """(statement index, alias expression, entry value) of a DATABASES-style setting: the
        items of each dict literal assigned to it, and the entries assigned one by one."""
        for i, value, _ in self.values(name):
            for key, entry in _entries(value):
                yield i, key, entry
        yield from self.added.get(name, [])


def _entry_key(target: cst.Subscript) -> cst.BaseExpression | None:
    """The key of ``NAME[<literal string>]``."""
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        return None
    key = target.slice[0].slice.value
    ok, value = literal(key)
    return key if ok and isinstance(value, str) else None


def _settings(context: Any) -> _Settings:
    found = getattr(context, "_djg_settings", None)
    if found is None:
        found = _Settings(context.module)
        context._djg_settings = found
    return found


# --------------------------------------------------------------------------- dict literals


def _key(element: cst.BaseDictElement) -> Any:
    if not isinstance(element, cst.DictElement):
        return _OPAQUE
    ok, value = literal(element.key)
    return value if ok and isinstance(value, str) else _OPAQUE


def _dict_items(node: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
    """The string-keyed items of a dict literal (or ``dict(k=v)``); None when it is not one or
    when a key cannot be seen (a ``**`` spread, a computed key)."""
    if isinstance(node, cst.Dict):
        items: dict[str, cst.BaseExpression] = {}
        for el in node.elements:
            key = _key(el)
            if key is _OPAQUE:
                return None
            items[key] = el.value  # type: ignore[union-attr]
        return items
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
        items = {}
        for arg in node.args:
            if arg.keyword is None:
                return None
            items[arg.keyword.value] = arg.value
        return items
    return None


def _entries(node: cst.BaseExpression) -> Iterator[tuple[cst.BaseExpression, cst.BaseExpression]]:
    """(alias expression, entry value) of a ``DATABASES``/``CACHES``-style dict literal; spreads skipped."""
    if isinstance(node, cst.Dict):
        for el in node.elements:
            if isinstance(el, cst.DictElement):
                yield el.key, el.value


def _alias(node: cst.BaseExpression, context: Any) -> str:
    ok, value = literal(node)
    return value if ok and isinstance(value, str) else context.code(node)


def _string(items: dict[str, cst.BaseExpression], key: str) -> Any:
    """The literal string under ``key``: _MISSING when absent, _OPAQUE when not a literal string."""
    if key not in items:
        return _MISSING
    ok, value = literal(items[key])
    return value if ok and isinstance(value, str) else _OPAQUE


_LOCAL_HOST = re.compile(r"^(?:|localhost|127\.0\.0\.1|::1|\[::1\]|/.*)$", re.I)


def _local_host(items: dict[str, cst.BaseExpression]) -> bool:
    """An entry whose HOST is missing or a literal local address (a Unix socket, the loopback):
    nothing crosses a network that can drop packets."""
    host = _string(items, "HOST")
    return host is _MISSING or (isinstance(host, str) and bool(_LOCAL_HOST.match(host)))


_LOCAL_URL = re.compile(r"^(?:[a-z+]+://(?:[^@/]*@)?(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/?]|$)|unix://|/)", re.I)


def _local_location(value: Any) -> bool:
    return isinstance(value, str) and bool(_LOCAL_URL.match(value))


# --------------------------------------------------------------------------- DJG101 / DJG102: DATABASES

_POSTGRES = re.compile(r"(?:^|\.)(?:postgresql|postgresql_psycopg2|postgis)$")
_MYSQL = re.compile(r"(?:^|\.)mysql$")
_SQLITE = re.compile(r"(?:^|\.)(?:sqlite3|spatialite)$")
_DB_URL_SCHEMES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "pgsql": "postgresql",
    "postgis": "postgresql",
    "mysql": "mysql",
    "mysql2": "mysql",
    "mysqlgis": "mysql",
    "mysql-connector": "connector",
    "sqlite": "sqlite",
    "spatialite": "sqlite",
}
_DJ_DATABASE_URL = ("dj_database_url.config", "dj_database_url.parse")


def _engine_kind(engine: str) -> str | None:
    if _POSTGRES.search(engine):
        return "postgresql"
    if _MYSQL.search(engine):
        return "mysql"
    if _SQLITE.search(engine):
        return "sqlite"
    return "other"


def _database_entries(visitor: Visitor) -> Iterator[tuple[int, str, cst.BaseExpression, Any]]:
    """(statement index, alias, entry value, DATABASES assignment) for each entry in sight."""
    settings = _settings(visitor.context)
    if "DATABASES" in settings.changed:
        return
    for i, key, entry in settings.entries("DATABASES"):
        yield i, _alias(key, visitor.context), entry, None


def _url_call(visitor: Visitor, entry: cst.BaseExpression) -> str | None:
    if isinstance(entry, cst.Call) and isinstance(entry.func, (cst.Name, cst.Attribute)):
        qual = visitor.resolve(entry.func)
        if qual in _DJ_DATABASE_URL:
            return qual
    return None


def _kwarg(call: cst.Call, name: str, position: int | None = None) -> Any:
    for i, arg in enumerate(call.args):
        if arg.star:
            return _OPAQUE
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
        if arg.keyword is None and position is not None and i == position:
            return arg.value
    return _MISSING


class DatabaseWithoutConnectTimeout(Visitor):
    """DJG101: a PostgreSQL or MySQL ``DATABASES`` entry whose ``OPTIONS`` give the driver no
    ``connect_timeout``."""

    TRIGGERS = ("DATABASES",)

    def visit_Module(self, node: cst.Module) -> None:
        for i, alias, entry, _ in _database_entries(self):
            items = _dict_items(entry)
            if items is None:
                self._url_entry(i, alias, entry)
                continue
            engine = _string(items, "ENGINE")
            if not isinstance(engine, str):
                continue
            kind = _engine_kind(engine)
            if kind not in ("postgresql", "mysql") or _local_host(items):
                continue
            options: dict[str, cst.BaseExpression] | None = {}
            if "OPTIONS" in items:
                options = _dict_items(items["OPTIONS"])
            if options is None or "connect_timeout" in options:
                continue
            if kind == "postgresql" and "service" in options:
                continue  # pg_service.conf may give the timeout
            if kind == "mysql" and ("read_default_file" in options or "read_default_group" in options):
                continue  # an option file (my.cnf) may give the timeout
            self._report(i, items["ENGINE"], alias, kind)

    def _url_entry(self, i: int, alias: str, entry: cst.BaseExpression) -> None:
        """``dj_database_url.parse("postgres://db.internal/app")``: the URL is in sight."""
        if _url_call(self, entry) != "dj_database_url.parse":
            return
        call = entry
        assert isinstance(call, cst.Call)
        url = _kwarg(call, "url", 0)
        if url is _OPAQUE or url is _MISSING:
            return
        ok, text = literal(url)
        if not (ok and isinstance(text, str)) or "connect_timeout=" in text or _local_location(text):
            return
        if any(arg.keyword is not None and arg.keyword.value not in _PARSE_KNOWN for arg in call.args):
            return  # an argument this check does not know may carry options
        scheme = text.split("://", 1)[0].lower() if "://" in text else ""
        kind = _DB_URL_SCHEMES.get(scheme)
        if kind in ("postgresql", "mysql"):
            self._report(i, url, alias, kind)

    def _report(self, i: int, node: cst.CSTNode, alias: str, kind: str) -> None:
        if kind == "postgresql":
            message = (
                "database `{alias}` (PostgreSQL) without `connect_timeout` in `OPTIONS`: connecting waits"
                " indefinitely with psycopg2 and up to 130 s per attempt with psycopg 3"
            )
        else:
            message = "database `{alias}` (MySQL) without `connect_timeout` in `OPTIONS`: connecting has no timeout of its own"
        self.report(node, message.format(alias=alias), at=(i, -1), alias=alias)


_PARSE_KNOWN = frozenset({"url", "engine", "conn_max_age", "conn_health_checks", "ssl_require", "test_options", "disable_server_side_cursors"})


class PersistentConnectionsWithoutHealthChecks(Visitor):
    """DJG102: ``CONN_MAX_AGE`` of ``None`` or above 0 without ``CONN_HEALTH_CHECKS: True``."""

    TRIGGERS = ("DATABASES",)

    def visit_Module(self, node: cst.Module) -> None:
        for i, alias, entry, _ in _database_entries(self):
            items = _dict_items(entry)
            if items is None:
                self._url_entry(i, alias, entry)
                continue
            engine = _string(items, "ENGINE")
            if not isinstance(engine, str) or _engine_kind(engine) == "sqlite" or "CONN_MAX_AGE" not in items:
                continue
            age = items["CONN_MAX_AGE"]
            if not _persistent(age) or not _checks_off(items.get("CONN_HEALTH_CHECKS", _MISSING)):
                continue
            self.report(age, at=(i, -1), alias=alias, setting="CONN_MAX_AGE", checks="CONN_HEALTH_CHECKS")

    def _url_entry(self, i: int, alias: str, entry: cst.BaseExpression) -> None:
        if _url_call(self, entry) is None:
            return
        call = entry
        assert isinstance(call, cst.Call)
        age = _kwarg(call, "conn_max_age")
        if age is _MISSING or age is _OPAQUE or not _persistent(age):
            return
        if not _checks_off(_kwarg(call, "conn_health_checks")):
            return
        if _url_call(self, entry) == "dj_database_url.parse":
            url = _kwarg(call, "url", 0)
        else:
            url = _kwarg(call, "default")
        if isinstance(url, cst.BaseExpression):
            ok, text = literal(url)
            if ok and isinstance(text, str) and _DB_URL_SCHEMES.get(text.split("://", 1)[0].lower()) == "sqlite":
                return
        self.report(age, at=(i, -1), alias=alias, setting="conn_max_age", checks="conn_health_checks")


def _persistent(node: Any) -> bool:
    """``CONN_MAX_AGE`` literal ``None`` or a positive number."""
    if not isinstance(node, cst.BaseExpression):
        return False
    ok, value = literal(node)
    if not ok:
        return False
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0)


def _checks_off(node: Any) -> bool:
    """``CONN_HEALTH_CHECKS`` absent or a literal false value."""
    if node is _MISSING:
        return True
    if node is _OPAQUE or not isinstance(node, cst.BaseExpression):
        return False
    ok, value = literal(node)
    return ok and not value


# --------------------------------------------------------------------------- DJG103: CACHES

_DJANGO_REDIS = "django.core.cache.backends.redis.RedisCache"
_DJANGO_REDIS_PKG = "django_redis.cache.RedisCache"
_PYMEMCACHE = "django.core.cache.backends.memcached.PyMemcacheCache"


def _locations(items: dict[str, cst.BaseExpression]) -> list[Any] | None:
    """The literal LOCATION strings (a string, ';'/',' separated, or a list); None when not in sight
    (read from the environment: a server elsewhere, reported)."""
    if "LOCATION" not in items:
        return []
    node = items["LOCATION"]
    if isinstance(node, (cst.List, cst.Tuple)):
        out = []
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                return None
            ok, value = literal(el.value)
            if not (ok and isinstance(value, str)):
                return None
            out.append(value)
        return out
    ok, value = literal(node)
    if ok and isinstance(value, str):
        return [v.strip() for v in re.split(r"[;,]", value)]
    return None


class CacheWithoutSocketTimeout(Visitor):
    """DJG103: a Redis or pymemcache ``CACHES`` entry without a socket timeout."""

    TRIGGERS = ("CACHES",)

    def visit_Module(self, node: cst.Module) -> None:
        settings = _settings(self.context)
        if "CACHES" in settings.changed:
            return
        for i, key, entry in settings.entries("CACHES"):
            items = _dict_items(entry)
            if items is None:
                continue
            backend = _string(items, "BACKEND")
            if backend not in (_DJANGO_REDIS, _DJANGO_REDIS_PKG, _PYMEMCACHE):
                continue
            options: dict[str, cst.BaseExpression] | None = {}
            if "OPTIONS" in items:
                options = _dict_items(items["OPTIONS"])
            if options is None:
                continue
            locations = _locations(items)
            if locations and all(_local_location(loc) for loc in locations):
                continue  # a cache on this host: nothing crosses a network
            message = self._missing(backend, options, locations or [])
            if message:
                alias = _alias(key, self.context)
                self.report(items["BACKEND"], message.format(alias=alias), at=(i, -1), alias=alias, backend=backend)

    @staticmethod
    def _missing(backend: str, options: dict[str, cst.BaseExpression], locations: list[Any]) -> str | None:
        if backend == _PYMEMCACHE:
            if "timeout" in options:
                return None
            return "cache `{alias}` (`PyMemcacheCache`) without `timeout` in `OPTIONS`: pymemcache waits on a stalled memcached server forever"
        if any("socket_timeout=" in loc for loc in locations):
            return None
        if backend == _DJANGO_REDIS:
            if "socket_timeout" in options or "pool_class" in options:
                return None
            return "cache `{alias}` (`RedisCache`) without `socket_timeout` in `OPTIONS`: Redis commands can wait forever"
        if "SOCKET_TIMEOUT" in options or "CONNECTION_FACTORY" in options:
            return None
        if "CONNECTION_POOL_KWARGS" in options:
            pool = _dict_items(options["CONNECTION_POOL_KWARGS"])
            if pool is None or "socket_timeout" in pool:
                return None
        return "cache `{alias}` (django-redis) without `SOCKET_TIMEOUT` in `OPTIONS`: Redis commands can wait forever"


# --------------------------------------------------------------------------- DJG104: SMTP email

_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# names only a Django settings module assigns
_SETTINGS_EVIDENCE = ("INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF", "DATABASES", "SECRET_KEY", "ALLOWED_HOSTS", "WSGI_APPLICATION")


class SmtpEmailWithoutTimeout(Visitor):
    """DJG104: the SMTP email backend configured without a timeout (``EMAIL_TIMEOUT`` or the
    ``timeout`` option of a ``MAILERS`` entry)."""

    TRIGGERS = ("EMAIL_HOST", "MAILERS")

    def visit_Module(self, node: cst.Module) -> None:
        settings = _settings(self.context)
        self._mailers(settings)
        self._legacy(settings)

    def _mailers(self, settings: _Settings) -> None:
        if "MAILERS" in settings.changed:
            return
        for i, key, entry in settings.entries("MAILERS"):
            items = _dict_items(entry)
            if items is None or _string(items, "BACKEND") != _SMTP_BACKEND:
                continue
            options: dict[str, cst.BaseExpression] | None = {}
            if "OPTIONS" in items:
                options = _dict_items(items["OPTIONS"])
            if options is None or "timeout" in options:
                continue
            host = _string(options, "host")
            if isinstance(host, str) and _LOCAL_HOST.match(host):
                continue
            alias = _alias(key, self.context)
            self.report(
                items["BACKEND"],
                f"mailer `{alias}` (SMTP) without `timeout` in `OPTIONS`: sending waits on a stalled mail server forever",
                at=(i, -1),
                alias=alias,
            )

    def _legacy(self, settings: _Settings) -> None:
        hosts = settings.values("EMAIL_HOST")
        if not hosts or settings.values("EMAIL_TIMEOUT") or "EMAIL_TIMEOUT" in settings.changed or settings.values("MAILERS"):
            return
        backends = settings.values("EMAIL_BACKEND")
        if backends:
            values = [literal(v) for _, v, _ in backends]
            if not all(ok and isinstance(v, str) for ok, v in values) or not any(v == _SMTP_BACKEND for _, v in values):
                return  # chosen at run time, or never the SMTP backend
        else:
            if settings.star_import:
                return  # the module it extends may choose another backend
            if not any(settings.values(name) for name in _SETTINGS_EVIDENCE):
                return  # not a Django settings module
        for i, value, target in hosts:
            ok, host = literal(value)
            if ok and (not isinstance(host, str) or _LOCAL_HOST.match(host)):
                continue  # a local relay, or no host
            self.report(target, at=(i, -1))
            return

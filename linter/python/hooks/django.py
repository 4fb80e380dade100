"""Django settings checks the ``setting`` vocabulary cannot say (DJG102, DJG104 visitors).

A Django settings module is plain Python whose module-level names are the settings. These
visitors read the module-level assignments of ``DATABASES``, ``MAILERS`` and the ``EMAIL_*``
settings through ``linter.python.settings`` (also inside module-level ``if``/``try``/``with``
blocks, never inside a function or class) and judge only what they can see: a dict literal whose
entries are dict literals with a literal ``ENGINE``/``BACKEND``. A value built by a call, a ``**``
spread, an ``OPTIONS`` from a variable, or a module that changes the setting after assigning it
(``DATABASES["default"]["OPTIONS"] = ...``) is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import libcst as cst

from linter.python.visitor import Visitor, literal
from linter.python.settings import LOCAL_HOST as _LOCAL_HOST
from linter.python.settings import ModuleSettings, module_settings
from linter.python.settings import alias as _alias
from linter.python.settings import dict_items as _dict_items

_MISSING = object()  # a key the dict literal does not have
_OPAQUE = object()  # a value that cannot be seen statically


# --------------------------------------------------------------------------- dict literals


def _string(items: dict[str, cst.BaseExpression], key: str) -> Any:
    """The literal string under ``key``: _MISSING when absent, _OPAQUE when not a literal string."""
    if key not in items:
        return _MISSING
    ok, value = literal(items[key])
    return value if ok and isinstance(value, str) else _OPAQUE


# --------------------------------------------------------------------------- DJG102: DATABASES

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
    settings = module_settings(visitor.context)
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


# --------------------------------------------------------------------------- DJG104: SMTP email

_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# names only a Django settings module assigns
_SETTINGS_EVIDENCE = ("INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF", "DATABASES", "SECRET_KEY", "ALLOWED_HOSTS", "WSGI_APPLICATION")


class SmtpEmailWithoutTimeout(Visitor):
    """DJG104: the SMTP email backend configured without a timeout (``EMAIL_TIMEOUT`` or the
    ``timeout`` option of a ``MAILERS`` entry)."""

    TRIGGERS = ("EMAIL_HOST", "MAILERS")

    def visit_Module(self, node: cst.Module) -> None:
        settings = module_settings(self.context)
        self._mailers(settings)
        self._legacy(settings)

    def _mailers(self, settings: ModuleSettings) -> None:
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

    def _legacy(self, settings: ModuleSettings) -> None:
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

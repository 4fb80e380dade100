"""The Python matcher's `setting` alternative (linter/python/settings.py): module-level settings,
their dict entries (`entries`), nested keys (`in`), `is: local-address`, and the settings a module
changes after assigning them. A pack from the scanned repository (YAML only); each test runs
`pitfall check` on a small file and reads what is reported; a bad value stops the run with exit 2
naming the file, the line and the key."""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers import assert_refused, local_rule_project, run

HEAD = "id: LOC101\nname: local-rule\ntarget: python\nseverity: warning\narea: timeout\nsummary: S.\nrationale: R.\nmessage: '`{name}` hit'\n"

CACHE = """
match:
  - setting: [CACHES]
    entries: true
    where:
      - {key: BACKEND, equals: ["redis"]}
      - {in: [OPTIONS, POOL], key: [socket_timeout, pool_class], is: missing}
    unless-where:
      - {key: LOCATION, is: local-address}
    message: "cache `{alias}` of `{name}`: {value}"
"""


def _findings(tmp_path, monkeypatch, capsys, match: str, code: str) -> list[tuple[int, int, str]]:
    """(row, column, message) of every finding of the rule in settings.py."""
    monkeypatch.chdir(tmp_path)
    local_rule_project(tmp_path, HEAD, match, {"settings.py": textwrap.dedent(code).lstrip("\n")})
    status, out, err = run(capsys, "check", "settings.py", "--select", "LOC", "--format", "json", "--no-cache")
    assert status in (0, 1), err
    return sorted((f["location"]["row"], f["location"]["column"], f["message"]) for f in json.loads(out)["findings"])


def test_entries_read_nested_keys_and_report_the_value_a_condition_found(tmp_path, monkeypatch, capsys):
    code = """
    import os
    CACHES = {
        "plain": {"BACKEND": "redis", "LOCATION": "redis://cache:6379"},
        "no-pool": {"BACKEND": "redis", "OPTIONS": {"db": 1}},
        "pool": {"BACKEND": "redis", "OPTIONS": {"POOL": {"max_connections": 5}}},
        "timeout": {"BACKEND": "redis", "OPTIONS": {"POOL": {"socket_timeout": 2}}},
        "custom": {"BACKEND": "redis", "OPTIONS": {"POOL": {"pool_class": "x"}}},
        "hidden": {"BACKEND": "redis", "OPTIONS": os.environ["OPTIONS"]},
        "hidden-pool": {"BACKEND": "redis", "OPTIONS": {"POOL": make_pool()}},
        "spread": {"BACKEND": "redis", **EXTRA},
        "other": {"BACKEND": "memcached"},
    }
    CACHES["added"] = dict(BACKEND="redis")
    """
    found = _findings(tmp_path, monkeypatch, capsys, CACHE, code)
    assert found == [
        (3, 26, "cache `plain` of `CACHES`: \"redis\""),
        (4, 28, "cache `no-pool` of `CACHES`: \"redis\""),
        (5, 25, "cache `pool` of `CACHES`: \"redis\""),
        (13, 32, "cache `added` of `CACHES`: \"redis\""),
    ]


def test_a_setting_the_module_changes_after_assigning_it_is_not_judged(tmp_path, monkeypatch, capsys):
    assert _findings(tmp_path, monkeypatch, capsys, CACHE, 'CACHES = {"a": {"BACKEND": "redis"}}\nCACHES["a"]["OPTIONS"] = {}\n') == []
    assert _findings(tmp_path, monkeypatch, capsys, CACHE, 'CACHES = {"a": {"BACKEND": "redis"}}\nCACHES.update(b={})\n') == []
    code = """
    CACHES = {"a": {"BACKEND": "redis"}}
    def configure():
        def inner():
            CACHES["a"]["OPTIONS"] = {}
    """
    assert _findings(tmp_path, monkeypatch, capsys, CACHE, code) == []
    # inside a module-level `if` it is assigned at import time: judged; inside a function it is not
    code = """
    import os
    if os.getenv("CACHE"):
        CACHES = {"a": {"BACKEND": "redis"}}
    def later():
        CACHES = {"b": {"BACKEND": "redis"}}
    """
    assert [row for row, _, _ in _findings(tmp_path, monkeypatch, capsys, CACHE, code)] == [3]


@pytest.mark.parametrize(
    ("location", "local"),
    [
        ('"redis://127.0.0.1:6379/0"', True),
        ('"unix:///run/redis.sock"', True),
        ('"/run/redis.sock"', True),
        ('["redis://localhost:6379", "redis://[::1]:6379"]', True),
        ('"redis://localhost:6379;redis://cache.internal:6379"', False),
        ('["redis://localhost:6379", "redis://cache.internal:6379"]', False),
        ('["redis://localhost:6379", *MORE]', False),
        ("[]", False),
        ('"redis://localhost.example.com:6379"', False),
        ("os.environ['REDIS_URL']", False),
    ],
)
def test_local_address_holds_only_when_every_address_is_on_this_machine(tmp_path, monkeypatch, capsys, location, local):
    code = f'import os\nCACHES = {{"a": {{"BACKEND": "redis", "LOCATION": {location}}}}}\n'
    assert bool(_findings(tmp_path, monkeypatch, capsys, CACHE, code)) is not local


def test_a_plain_setting_judges_each_value_assigned(tmp_path, monkeypatch, capsys):
    match = """
    match:
      setting: [timeout, graceful_timeout]
      where:
        - {value: true, equals: [0]}
    """
    code = """
    import os
    timeout = 30
    if os.getenv("DEBUG"):
        timeout = 0
    graceful_timeout: int = 0
    def f():
        timeout = 0
    """
    assert _findings(tmp_path, monkeypatch, capsys, match, code) == [(4, 15, "`timeout` hit"), (5, 25, "`graceful_timeout` hit")]


@pytest.mark.parametrize(
    ("match", "key"),
    [
        ("match:\n  setting: [CACHES]\n  where:\n    - {in: [OPTIONS], is: missing}\n", "match.where.0"),
        ("match:\n  setting: [CACHES]\n  where:\n    - {key: BACKEND, is: local}\n", "match.where.0.is"),
        ("match:\n  setting: [CACHES]\n  entries: yes-please\n", "match.entries"),
        ("match:\n  - setting: [CACHES]\n  - call: [requests.get]\n", "match.1.setting"),
    ],
)
def test_a_bad_value_stops_the_run_naming_file_line_and_key(tmp_path, monkeypatch, capsys, match, key):
    monkeypatch.chdir(tmp_path)
    local_rule_project(tmp_path, HEAD, match, {"settings.py": "CACHES = {}\n"})
    code, _, err = run(capsys, "check", "settings.py")
    assert_refused(tmp_path, code, err, key, on_key_line=False)


def test_an_entry_that_is_a_call_is_read_through_its_arguments(tmp_path, monkeypatch, capsys):
    match = """
    match:
      setting: [DATABASES]
      entries: true
      where:
        - {value: true, calls: [dburl.parse]}
        - {value: true, only-keywords: [url, conn_max_age]}
        - {arg: url, position: 0, regex: "^postgres://"}
      unless-where:
        - {arg: url, position: 0, is: local-address}
      message: "`{alias}`: {value}"
    """
    code = """
    import dburl
    DATABASES = {
        "a": dburl.parse("postgres://db/app"),
        "b": dburl.parse(url="postgres://db/app", conn_max_age=60),
        "c": dburl.parse("postgres://db/app", options={"connect_timeout": 5}),
        "d": dburl.parse("postgres://localhost/app"),
        "e": dburl.parse(*ARGS),
        "f": dburl.config("postgres://db/app"),
        "g": dburl.parse("mysql://db/app"),
    }
    """
    assert _findings(tmp_path, monkeypatch, capsys, match, code) == [
        (3, 22, '`a`: "postgres://db/app"'),
        (4, 26, '`b`: "postgres://db/app"'),
    ]

"""The Python matcher's vetoes (`unless-*`) and the condition parts `read-kwargs`, `ignore-case`
and `key`, used by a pack from the scanned repository: YAML only, so no `--trust-pack-code`.
Each test runs `pitfall check` on a small file and reads the reported lines and columns; a bad
value stops the run with exit 2 naming the file, the line and the key."""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers import assert_refused, check_both_paths, local_rule_project, run

HEAD = "id: LOC101\nname: local-rule\ntarget: python\nseverity: warning\narea: timeout\nsummary: S.\nrationale: R.\nmessage: '`{callee}` hit'\n"


def _project(tmp_path, match: str, code: str) -> None:
    local_rule_project(tmp_path, HEAD, match, {"app.py": textwrap.dedent(code).lstrip("\n")})


def _hits(tmp_path, monkeypatch, capsys, match: str, code: str) -> list[tuple[int, int]]:
    """(row, column) of every finding of the rule in app.py."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, match, code)
    status, out, err = run(capsys, "check", "app.py", "--select", "LOC", "--format", "json", "--no-cache")
    assert status in (0, 1), err
    return sorted((f["location"]["row"], f["location"]["column"]) for f in json.loads(out)["findings"])


def _rows(*args) -> list[int]:
    return [row for row, _ in _hits(*args)]


def test_given_elsewhere_trusts_a_function_that_chooses_but_not_module_code_or_literals(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["socket.create_connection"]
      where:
        - {arg: timeout, position: 1, is: missing}
      unless-given-elsewhere: timeout
    """
    code = """
    import socket
    def connect(address, timeout=None):
        if timeout is None:
            return socket.create_connection(address)
        return socket.create_connection(address, timeout)
    def literal(address):
        socket.create_connection(address, 5)
        return socket.create_connection(address)
    def other(address, timeout):
        socket.create_connection(address, timeout=timeout)
    socket.create_connection(("a", 1))
    """
    # the literal 5 is no choice; another function's call and module-level code do not count
    assert _rows(tmp_path, monkeypatch, capsys, match, code) == [8, 11]


def test_receiver_vetoes_a_session_with_a_custom_adapter_or_a_replaced_attribute_only(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["requests.Session().get"]
      unless-receiver:
        assigned: [request]
        mounted-except: ["requests.adapters.{HTTPAdapter}"]
    """
    code = """
    import functools
    import requests
    from requests.adapters import HTTPAdapter
    plain = requests.Session()
    plain.mount("https://", HTTPAdapter(max_retries=3))
    custom = requests.Session()
    custom.mount("https://", TimeoutAdapter())
    patched = requests.Session()
    patched.request = functools.partial(patched.request, timeout=5)
    plain.get("https://example.com")
    custom.get("https://example.com")
    patched.get("https://example.com")
    """
    assert _rows(tmp_path, monkeypatch, capsys, match, code) == [10]


def test_read_kwargs_sees_into_dicts_built_in_sight_only(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["requests.get"]
      where:
        - {arg: timeout, is: missing, read-kwargs: true}
    """
    code = """
    import requests
    def seen(url):
        options = {"headers": {}}
        options["verify"] = True
        return requests.get(url, **options)
    def handed_on(url):
        options = {"headers": {}}
        configure(options)
        return requests.get(url, **options)
    def parameter(url, **kwargs):
        return requests.get(url, **kwargs)
    def keyed(url, key):
        options = {}
        options[key] = 1
        return requests.get(url, **options)
    def inline(url):
        return requests.get(url, **{"stream": True})
    """
    assert _rows(tmp_path, monkeypatch, capsys, match, code) == [5, 17]


def test_key_reads_dict_entries_written_in_sight_and_report_call_reports_the_call(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["confluent_kafka.Producer"]
      where:
        - {arg: config, position: 0, key: [message.timeout.ms, delivery.timeout.ms], equals: [0]}
        - {arg: config, position: 0, key: transactional.id, is: missing}
      report: call
    """
    code = """
    from confluent_kafka import Producer
    CONF = {"bootstrap.servers": "k:9092"}
    CONF["delivery.timeout.ms"] = 0
    a = Producer(CONF)
    b = Producer({"message.timeout.ms": 1000})
    def make(settings, servers):
        conf = {"bootstrap.servers": servers}
        conf.update({"message.timeout.ms": 0, "transactional.id": "t"})
        Producer(conf)
        Producer(settings)
        return Producer(dict(settings, **{"message.timeout.ms": 0}))
    c = Producer(config={"x": 1,   "message.timeout.ms": 0})
    """
    # a transactional producer, a parameter and a call result are not seen to set it
    assert _hits(tmp_path, monkeypatch, capsys, match, code) == [(4, 5), (12, 5)]
    report_node = match.replace("      report: call\n", "")
    assert _hits(tmp_path, monkeypatch, capsys, report_node, code) == [(3, 31), (12, 54)]


def test_in_dict_unpacked_and_ignore_case(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["pymongo.MongoClient"]
      where:
        - {arg: socketTimeoutMS, is: missing, ignore-case: true}
      unless-unpacked: true
      unless-in-dict: {options: socketTimeoutMS}
    """
    code = """
    import pymongo
    def clients(host, extra, options):
        pymongo.MongoClient(host)
        pymongo.MongoClient(host, sockettimeoutms=5000)
        pymongo.MongoClient(host, **extra)
        pymongo.MongoClient(*extra)
        pymongo.MongoClient(host, options={"appname": "x"})
        pymongo.MongoClient(host, options=options)
        pymongo.MongoClient(host, options={"socketTimeoutMS": 5})
    """
    assert _rows(tmp_path, monkeypatch, capsys, match, code) == [3, 7]


def test_url_and_module_text_and_arg_mentions(tmp_path, monkeypatch, capsys):
    match = """
    match:
      - call: ["websockets.connect"]
        unless-url: {arg: uri, position: 0, is: loopback, follow-names: true}
      - call: ["requests.request"]
        unless-url: {arg: url, position: 1, is: plain-http}
        unless-arg-mentions: {arg: url, position: 1, regex: insecure}
      - call: ["pika.BlockingConnection"]
        unless-module-lacks: '\\.basic_publish\\('
        unless-module-matches: blocked_connection_timeout
    """
    code = """
    import pika
    import requests
    import websockets
    LOCAL = "ws://127.0.0.1:9000"
    websockets.connect(LOCAL)
    websockets.connect(f"ws://localhost:{8000}/x")
    websockets.connect("wss://feed.example.com")
    requests.request("GET", "http://" + host)
    requests.request("GET", f"https://{host}/")
    requests.request("GET", insecure_url)
    pika.BlockingConnection()
    """
    assert _rows(tmp_path, monkeypatch, capsys, match, code) == [7, 9]
    assert _rows(tmp_path, monkeypatch, capsys, match, code + "channel.basic_publish(body=b'x')\n") == [7, 9, 11]
    # `follow-names` is what lets the module's constant count
    assert _rows(tmp_path, monkeypatch, capsys, match.replace(", follow-names: true", ""), code) == [5, 7, 9]


def test_unless_where_vetoes_when_all_its_conditions_hold(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["ssl.wrap_socket"]
      where:
        - {arg: cert_reqs, refers-to: ["ssl.CERT_NONE"]}
      unless-where:
        - {arg: server_side, equals: [true]}
    """
    code = """
    import ssl
    ssl.wrap_socket(s, server_side=True, cert_reqs=ssl.CERT_NONE)
    ssl.wrap_socket(s, server_side=False, cert_reqs=ssl.CERT_NONE)
    ssl.wrap_socket(s, cert_reqs=ssl.CERT_NONE)
    ssl.wrap_socket(s, cert_reqs=ssl.CERT_NONE, **options)
    """
    # the reported node is the value the condition found; `**options` may hold `server_side`
    assert _hits(tmp_path, monkeypatch, capsys, match, code) == [(3, 49), (4, 30), (5, 30)]


def test_the_receiver_scan_gives_the_same_findings_without_the_fast_paths(tmp_path):
    _project(tmp_path, """
    match:
      call: ["requests.Session().get"]
      unless-receiver:
        assigned: [request, send]
        mounted-except: ["requests.adapters.HTTPAdapter"]
    """, """
    import requests
    a = requests.Session()
    b = requests.Session()
    b.send = wrapped
    a.get("x")
    b.get("x")
    """)
    report = check_both_paths(tmp_path, "app.py", "--select", "LOC")
    assert [f["location"]["row"] for f in json.loads(report)["findings"]] == [5]


@pytest.mark.parametrize(
    "match, key",
    [
        ("match:\n  call: [requests.get]\n  unless-url: {arg: url, is: https}\n", "match.unless-url.is"),
        ("match:\n  call: [requests.get]\n  unless-given-elsewhere: [timeout]\n", "match.unless-given-elsewhere"),
        ("match:\n  call: [requests.get]\n  unless-receiver: {mounts: [x]}\n", "match.unless-receiver.mounts"),
        ("match:\n  call: [requests.get]\n  unless-module-matches: '(unclosed'\n", "match.unless-module-matches"),
        ("match:\n  call: [requests.get]\n  unless-in-dict: {connect_args: 5}\n", "match.unless-in-dict.connect_args"),
        ("match:\n  call: [requests.get]\n  unless-unpacked: false\n", "match.unless-unpacked"),
        ("match:\n  call: [requests.get]\n  where:\n    - {arg: config, key: [], is: missing}\n", "match.where.0.key"),
        ("match:\n  call: [requests.get]\n  report: everything\n", "match.report"),
    ],
    ids=["url-kind", "given-elsewhere-list", "receiver-unknown-key", "bad-regex", "in-dict-value", "unpacked-false", "empty-key", "report"],
)
def test_a_bad_value_stops_the_run_naming_file_line_and_key(tmp_path, monkeypatch, capsys, match, key):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, match, "import requests\nrequests.get('x')\n")
    code, _, err = run(capsys, "check", "app.py")
    assert_refused(tmp_path, code, err, key)

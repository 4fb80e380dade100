"""The Python matcher's address, environment and glob vocabulary (`linter/python/targets.py`):
the `host` condition on an address argument, the `env-write` alternative and `*` in call
patterns, used by a pack from the scanned repository (YAML only). Each test runs `pitfall check`
on a small file and reads what is reported; a bad value stops the run with exit 2 naming the
file, the line and the key."""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers import assert_refused, check_both_paths, local_rule_project, run

HEAD = "id: LOC101\nname: local-rule\ntarget: python\nseverity: warning\narea: tls\nsummary: S.\nrationale: R.\nmessage: '`{callee}` hit'\n"


def _project(tmp_path, match: str, code: str) -> None:
    local_rule_project(tmp_path, HEAD, match, {"app.py": textwrap.dedent(code).lstrip("\n")})


def _findings(tmp_path, monkeypatch, capsys, match: str, code: str) -> list[tuple[int, int, str]]:
    """(row, column, message) of every finding of the rule in app.py."""
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, match, code)
    status, out, err = run(capsys, "check", "app.py", "--select", "LOC", "--format", "json", "--no-cache")
    assert status in (0, 1), err
    return sorted((f["location"]["row"], f["location"]["column"], f["message"]) for f in json.loads(out)["findings"])


def test_host_kinds_read_literal_and_template_targets(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["grpc.insecure_channel"]
      where:
        - {arg: target, position: 0, host: [other, all-interfaces]}
      report: call
      message: "{host} | {address}"
    """
    code = """
    import grpc
    grpc.insecure_channel("orders.internal:50051")
    grpc.insecure_channel(target=f"0.0.0.0:{port}")
    grpc.insecure_channel("dns:///orders.internal:443")
    grpc.insecure_channel("xds:///billing:50051")
    grpc.insecure_channel("[::]:50051")
    grpc.insecure_channel("localhost:50051")
    grpc.insecure_channel("unix:///run/orders.sock")
    grpc.insecure_channel(f"{host}:50051")
    grpc.insecure_channel(":50051")
    grpc.insecure_channel(settings.TARGET)
    grpc.insecure_channel("[::1")
    """
    # loopback, unix sockets, a run-time host, an empty host, a non-string and a broken
    # bracket are not `other` or `all-interfaces`
    assert _findings(tmp_path, monkeypatch, capsys, match, code) == [
        (2, 1, "orders.internal | orders.internal:50051"),
        (3, 1, "0.0.0.0 | 0.0.0.0:{...}"),
        (4, 1, "orders.internal | dns:///orders.internal:443"),
        (5, 1, "billing | xds:///billing:50051"),
        (6, 1, ":: | [::]:50051"),
    ]


def test_each_host_kind_holds_for_its_own_hosts_only(tmp_path, monkeypatch, capsys):
    code = """
    import grpc
    grpc.insecure_channel(f"{host}:1")
    grpc.insecure_channel("127.0.0.2:1")
    grpc.insecure_channel(":1")
    grpc.insecure_channel("*:1")
    grpc.insecure_channel("db:1")
    """
    rows = {}
    for kind in ("run-time", "loopback", "empty", "all-interfaces", "other"):
        match = f'match:\n  call: ["grpc.insecure_channel"]\n  where:\n    - {{arg: target, position: 0, host: [{kind}]}}\n'
        rows[kind] = [row for row, _, _ in _findings(tmp_path, monkeypatch, capsys, match, code)]
    assert rows == {"run-time": [2], "loopback": [3], "empty": [4], "all-interfaces": [5], "other": [6]}


def test_source_names_an_address_without_a_host_on_one_short_line(tmp_path, monkeypatch, capsys):
    match = """
    match:
      call: ["grpc.insecure_channel"]
      where:
        - {arg: target, position: 0, host: [empty]}
      message: "to `{source}`"
    """
    code = """
    import grpc
    grpc.insecure_channel(f":{port}")
    grpc.insecure_channel(
        f":{settings.a_very_long_name_for_the_port_that_keeps_going_and_going}"
    )
    """
    found = _findings(tmp_path, monkeypatch, capsys, match, code)
    # no `report: call`: the argument is reported
    assert found == [
        (2, 23, 'to `f":{port}"`'),
        (4, 5, 'to `f":{settings.a_very_long_name_for_the_port_that_keeps_goi...`'),
    ]


def test_env_write_sees_every_way_of_writing_a_variable(tmp_path, monkeypatch, capsys):
    match = r"""
    match:
      env-write: ["PYTHONHTTPSVERIFY", "CURL_{CA_BUNDLE}"]
      where:
        - {value: true, regex: '\A\s*0?\s*\Z'}
      message: "{qualname} = {value}"
    """
    code = """
    import os
    from os import environ, putenv
    os.environ["PYTHONHTTPSVERIFY"] = "0"
    environ.setdefault("CURL_CA_BUNDLE", "")
    os.environ.update({"CURL_CA_BUNDLE": " "}, PYTHONHTTPSVERIFY="0")
    putenv("PYTHONHTTPSVERIFY", "0")
    os.putenv("CURL_CA_BUNDLE", "")
    os.environ["PYTHONHTTPSVERIFY"] = "1"
    os.environ["REQUESTS_CA_BUNDLE"] = ""
    os.environb[b"PYTHONHTTPSVERIFY"] = b"0"
    os.environ[NAME] = "0"
    settings["PYTHONHTTPSVERIFY"] = "0"
    os.environ.setdefault("PYTHONHTTPSVERIFY")
    os.environ.update(**overrides)
    """
    assert _findings(tmp_path, monkeypatch, capsys, match, code) == [
        (3, 1, 'PYTHONHTTPSVERIFY = "0"'),
        (4, 1, 'CURL_CA_BUNDLE = ""'),
        (5, 1, 'CURL_CA_BUNDLE = " "'),
        (5, 1, 'PYTHONHTTPSVERIFY = "0"'),
        (6, 1, 'PYTHONHTTPSVERIFY = "0"'),
        (7, 1, 'CURL_CA_BUNDLE = ""'),
    ]


def test_env_write_honours_unless_inside_if(tmp_path, monkeypatch, capsys):
    match = """
    match:
      env-write: ["PYTHONHTTPSVERIFY"]
      unless-inside-if: insecure
    """
    code = """
    import os
    if settings.insecure:
        os.environ["PYTHONHTTPSVERIFY"] = "0"
    os.environ["PYTHONHTTPSVERIFY"] = "0"
    """
    assert [row for row, _, _ in _findings(tmp_path, monkeypatch, capsys, match, code)] == [4]


GLOB = """
match:
  call: ["**.*_pb2_grpc.*Stub().*"]
  where:
    - {arg: timeout, position: 1, is: missing}
"""


def test_a_glob_matches_name_parts_and_any_package_prefix(tmp_path, monkeypatch, capsys):
    code = """
    from orders.v1 import orders_pb2_grpc
    import billing_pb2_grpc as rpc
    import grpc_tools
    a = orders_pb2_grpc.OrderServiceStub(channel)
    a.GetOrder(request)
    rpc.BillingStub(channel).Charge(request)
    grpc_tools.ServiceStub(channel).Get(request)
    orders_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server)
    a.GetOrder(request, 5.0)
    """
    rows = [row for row, _, _ in _findings(tmp_path, monkeypatch, capsys, GLOB, code)]
    assert rows == [5, 6]


def test_a_glob_rule_keeps_methods_far_from_its_trigger_with_the_fast_paths(tmp_path):
    filler = "".join(f"def unrelated_{i}():\n    return {i}\n" for i in range(120))
    code = (
        "import orders_pb2_grpc\n"
        "class Client:\n"
        "    def __init__(self, channel):\n"
        "        self.stub = orders_pb2_grpc.OrderServiceStub(channel)\n"
        "    def get(self, request):\n"
        "        return self.stub.GetOrder(request)\n"
        + filler
    )
    _project(tmp_path, GLOB, code)
    report = check_both_paths(tmp_path, "app.py", "--select", "LOC")
    assert [f["location"]["row"] for f in json.loads(report)["findings"]] == [6]


@pytest.mark.parametrize(
    "match, key",
    [
        ("match:\n  call: [grpc.insecure_channel]\n  where:\n    - {arg: target, host: [remote]}\n", "match.where.0.host.0"),
        ("match:\n  call: [grpc.insecure_channel]\n  where:\n    - {arg: target, host: []}\n", "match.where.0.host"),
        ("match:\n  env-write: [\"MY-VAR\"]\n", "match.env-write.0"),
        ("match:\n  assign: [\"*.verify*\"]\n", "match.assign.0"),
    ],
    ids=["host-kind", "host-empty", "env-name", "assign-glob"],
)
def test_a_bad_value_stops_the_run_naming_file_line_and_key(tmp_path, monkeypatch, capsys, match, key):
    monkeypatch.chdir(tmp_path)
    _project(tmp_path, match, "import grpc\n")
    code, _, err = run(capsys, "check", "app.py")
    assert_refused(tmp_path, code, err, key)

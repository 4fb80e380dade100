"""The Python rule catalogue (timeouts, retries, ports, TLS) and the certificate-file rules.

- reduced versions of the peer tools' test cases for the overlapping checks (bandit B113, B501,
  B502/B503, B504, B323, B104 and ruff's S113, S501-S504, S323, S104): every positive line is
  reported, no negative line is (our own code, written after reading theirs);
- bad input for every rule family: dynamic attribute access, star imports, ``**kwargs``
  forwarding, ``functools.partial``, odd call shapes, broken certificate bytes: never a crash,
  and a missing-keyword rule stays silent when ``**kwargs`` may hold the keyword;
- the analyzer extensions the catalogue uses (``unset``, ``above``, ``calls``, ``decorator``,
  ``unless``, per-alternative messages) and the certificate pairing at the I/O edge.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from helpers import run, write

from linter.certs import checks as certs
from linter.python.addresses import is_loopback, split_host_port, template, url_host_port
from linter.core.config import from_dict
from linter.core.engine import build_ruleset, lint_unit
from linter.core.packs import load_packs

PACKS = load_packs()
MINE = ("TMO1", "RTY", "PRT1", "TLS1", "CRT")
MY_RULES = [r for p in PACKS for r in p.rules if r.id.startswith(MINE)]


def make_ruleset(tmp_path_factory, **config):
    root = tmp_path_factory.mktemp("cat")
    settings = {"select": list(MINE), "preview": True, "respect-gitignore": False, **config}
    return build_ruleset(from_dict(settings, root=root, config_path=None), project_root=root)


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory):
    return make_ruleset(tmp_path_factory)


def found(ruleset, code: str, path: str = "m.py") -> list[tuple[int, str]]:
    result = lint_unit("python", path, textwrap.dedent(code).encode(), ruleset)
    assert not [f for f in result.findings if f.rule_id.startswith("LNT")], result.findings
    return sorted((f.region.line, f.rule_id) for f in result.findings)


def lines(ruleset, code: str, *rules: str, path: str = "m.py") -> list[int]:
    return sorted({line for line, rid in found(ruleset, code, path) if rid.startswith(rules)})


# --------------------------------------------------------------------------- peer test cases

# (code, rule prefixes that map to the peer check, expected lines); comments say what the peer says
PEER_CASES = {
    "B113/S113 request without timeout": (
        """\
        import httpx
        import requests
        import not_requests
        requests.get('https://a')                               # 4 positive
        requests.get('https://a', timeout=None)                 # 5 positive
        requests.post('https://a'); requests.put('https://a')   # 6 positive
        requests.delete('https://a', timeout=None)              # 7 positive
        requests.patch('https://a'); requests.options('https://a'); requests.head('https://a')  # 8
        requests.request('GET', 'https://a')                    # 9 positive
        httpx.get('https://a', timeout=None)                    # 10 positive
        httpx.Client(timeout=None)                              # 11 positive
        with httpx.AsyncClient(timeout=None) as client:         # 12 positive
            client.get('https://a')
        not_requests.get('https://a')                           # 14 negative
        requests.get('https://a', timeout=5)                    # 15 negative
        requests.request('GET', 'https://a', timeout=5)         # 16 negative
        httpx.get('https://a')                                  # 17 negative: 5 s default
        httpx.Client()                                          # 18 negative
        httpx.AsyncClient(timeout=5)                            # 19 negative
        with httpx.Client() as client:                          # 20 negative
            client.get('https://a')
        requests.get('https://a', **options)                    # 22 negative: may hold timeout
        """,
        ("TMO101", "TMO102"),
        [4, 5, 6, 7, 8, 9, 10, 11, 12],
    ),
    "B501/S501 request with no certificate validation": (
        """\
        import httpx
        import requests
        requests.get('https://a', timeout=3, verify=False)      # 3 positive
        requests.get('https://a', timeout=3, verify=True)       # 4 negative
        requests.request('GET', 'https://a', timeout=3, verify=False)  # 5 positive
        httpx.stream('GET', 'https://a', verify=False)           # 6 positive
        httpx.Client(verify=False)                              # 7 positive
        httpx.AsyncClient()                                     # 8 negative
        httpx.post('https://a', verify='/etc/ssl/ca.pem')       # 9 negative
        """,
        ("TLS101",),
        [3, 5, 6, 7],
    ),
    "B502/S502 bad SSL protocol version": (
        """\
        import ssl
        from OpenSSL import SSL
        wrap_socket(ssl_version=ssl.PROTOCOL_SSLv3)             # 3 positive (callee unknown)
        ssl.wrap_socket(ssl_version=ssl.PROTOCOL_TLSv1)         # 4 positive
        SSL.Context(method=SSL.SSLv2_METHOD)                    # 5 positive
        SSL.Context(method=SSL.SSLv23_METHOD)                   # 6 negative: version-flexible
        helper(method=SSL.TLSv1_METHOD)                         # 7 positive
        helper(ssl_version=ssl.PROTOCOL_SSLv2)                  # 8 positive
        wrap_socket(ssl_version=ssl.PROTOCOL_TLS_CLIENT)        # 9 negative
        SSL.Context(method=SSL.TLS_SERVER_METHOD)               # 10 negative
        helper(ssl_version=ssl.PROTOCOL_TLSv1_2)                # 11 negative
        """,
        ("TLS106",),
        [3, 4, 5, 7, 8],
    ),
    "B502 with the pyOpenSSL spelling of the import": (
        """\
        from pyOpenSSL import SSL
        SSL.Context(method=SSL.SSLv3_METHOD)                    # 2 positive
        SSL.Context(method=SSL.TLSv1_METHOD)                    # 3 positive
        def open_ssl_socket(version=SSL.TLSv1_1_METHOD):        # 4 negative for bandit
            pass
        """,
        ("TLS106",),
        [2, 3],
    ),
    "B503/S503 bad SSL version as a default": (
        """\
        import ssl
        from OpenSSL import SSL
        from ssl import PROTOCOL_TLSv1
        def a(version=ssl.PROTOCOL_SSLv2): pass                 # 4 positive
        def b(protocol=SSL.SSLv2_METHOD): pass                  # 5 positive
        def c(version=SSL.SSLv23_METHOD): pass                  # 6 negative: version-flexible
        def d(protocol=PROTOCOL_TLSv1): pass                    # 7 positive
        def e(version=SSL.TLSv1_2_METHOD): pass                 # 8 negative
        def f(version=ssl.PROTOCOL_SSLv23): pass                # 9 negative
        """,
        ("TLS106",),
        [4, 5, 7],
    ),
    "B504/S504 ssl.wrap_socket without a version": (
        """\
        import ssl
        from ssl import wrap_socket
        ssl.wrap_socket()                                       # 3 positive
        wrap_socket()                                           # 4 positive
        ssl.wrap_socket(ssl_version=ssl.PROTOCOL_TLSv1_2)       # 5 negative
        class Foo:
            def wrap_socket(self):
                pass
        Foo().wrap_socket()                                     # 9 negative
        f = Foo()
        f.wrap_socket()                                         # 11 negative
        """,
        ("TLS111",),
        [3, 4],
    ),
    "B323/S323 unverified context": (
        """\
        import ssl
        ssl._create_unverified_context()                        # 2 positive
        ssl.create_default_context()                            # 3 negative
        ssl._create_default_https_context = ssl._create_unverified_context  # 4 positive
        """,
        ("TLS103",),
        [2, 4],
    ),
    "B104/S104 bind all interfaces": (
        # bandit reports the string "0.0.0.0" wherever it is; we report it only where it reaches a
        # listening call (in the call, or through a name bound once), so 5-11 are negative here
        """\
        import socket
        def func(address):
            print(address)
        "OK"                                                    # 4 negative
        "0.0.0.0"                                               # 5 negative: never serves
        f"0.0.0.0"                                              # 6 negative: never serves
        func("0.0.0.0")                                         # 7 negative: not a listening call
        def my_func():
            x = "0.0.0.0"                                       # 9 negative: printed, not bound
            print(x)
        "0.0.0.0" f"0.0.0.0{expr}0.0.0.0"                       # 11 negative: never serves
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('0.0.0.0', 31137))                              # 13 positive
        s.bind(('192.168.0.1', 8080))                           # 14 negative
        if address == "0.0.0.0" or address in ("0.0.0.0", "::"):  # 15 negative: a test
            pass
        HOST = "0.0.0.0"                                        # 17 positive: reaches bind (PRT105)
        s.bind((HOST, 31138))
        """,
        ("PRT101", "PRT105"),
        [13, 17],
    ),
}


@pytest.mark.parametrize("name", sorted(PEER_CASES))
def test_peer_cases(ruleset, name):
    code, rules, want = PEER_CASES[name]
    assert lines(ruleset, code, *rules) == want


def test_bind_call_reported_once(ruleset):
    code = "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 8080))\n"
    assert found(ruleset, code) == [(3, "PRT101"), (3, "PRT102")]
    # port 0: a free-port probe, no finding at all
    assert found(ruleset, code.replace("8080", "0")) == []


def test_one_finding_per_rule_and_argument(ruleset):
    # `uvicorn.run` is also a `*.run` call: still one finding per rule per argument
    code = 'import uvicorn\nuvicorn.run(app, host="0.0.0.0", port=8000)\nuvicorn.run(app, host="0.0.0.0", port=8000)\n'
    assert found(ruleset, code) == [(2, "PRT101"), (2, "PRT102"), (3, "PRT101"), (3, "PRT102")]
    # a constant that reaches several listening calls is reported once, where it is written
    code = 'import uvicorn\nHOST = "0.0.0.0"\nPORT = 8000\nuvicorn.run(app, host=HOST, port=PORT)\nuvicorn.Config(app, host=HOST, port=PORT)\n'
    assert found(ruleset, code) == [(2, "PRT105"), (3, "PRT102")]


def test_listening_calls_and_configuration(ruleset):
    code = """\
        import os
        import socket
        import uvicorn
        from aiohttp import web
        HOST = os.environ.get("HOST", "0.0.0.0")
        uvicorn.run(app, host=HOST, port=int(os.getenv("PORT", "8080")))
        web.run_app(app, host=os.getenv("HOST") or "0.0.0.0", port=settings.get("port", 8080))
        uvicorn.run(app, host="0.0.0.0", port=0)
        def probe(port=8080):
            with socket.socket() as s:
                s.bind(("0.0.0.0", port))
                return s.getsockname()
        def serve(port=8081):
            with socket.socket() as s:
                s.bind(("0.0.0.0", port))
                s.listen()
        """
    assert found(ruleset, code) == [(13, "PRT102"), (15, "PRT101")]


# --------------------------------------------------------------------------- bad input, every family

WEIRD = """\
import functools, importlib, requests, httpx, aiohttp, grpc, redis, tenacity, backoff, socket, ssl, os
import urllib3, smtplib, paramiko
from tenacity import *
from requests import *
m = importlib.import_module(name)
getattr(requests, verb)(url)
getattr(m, "get")(url)
functools.partial(requests.get, timeout=5)(url)
functools.partial(requests.get)(url)
requests.get(*args)
requests.get(url, *rest, **kwargs)
clients["api"].get(url)
(lambda: requests)().get
(yield_ := requests.Session()).get
@retry(**POLICY)
def f(): ...
@tenacity.retry(*ARGS)
def g(): ...
@functools.wraps(f)
def h(): ...
@(lambda fn: fn)
def i(): ...
@decorators[0]
def j(): ...
tenacity.Retrying(**cfg)
backoff.on_exception(backoff.expo, OSError, **limits)
urllib3.Retry(**retry_options)
redis.Redis(**conf)
redis.from_url(url, **conf)
aiohttp.ClientSession(**session_options)
grpc.insecure_channel(*target)
server.add_insecure_port(*ports)
socket.create_connection(*address)
smtplib.SMTP(host, **options).starttls(**tls)
ssl.wrap_socket(sock, **options)
os.environ.update(**env)
os.environ[key] = value
os.environ.setdefault(*pair)
paramiko.SSHClient().set_missing_host_key_policy(*policy)
x = f"{'0.0.0.0'!r:>10}"
y = b"0.0.0.0"
requests.get(f"http://{host}:{port}/{path}", timeout=5)
requests.get("http://" + host + ":" + str(port), timeout=5)
requests.get("http://%s:%d/" % (host, port), timeout=5)
requests.get("http://{}:{}/".format(host, port), timeout=5)
"""


def test_unusual_code_never_crashes_and_kwargs_keep_rules_silent(ruleset):
    got = found(ruleset, WEIRD)
    rules = {rid for line, rid in got if line != 10}
    # `**kwargs`, `*args` where the keyword may be positional, dynamic access and partial: no
    # missing-keyword finding anywhere
    assert not rules & {"TMO101", "TMO104", "TMO105", "TMO109", "RTY101", "RTY102", "RTY104", "RTY106", "TLS111", "TLS112", "TLS113", "TLS114"}, got
    # `requests.get(*args)`: `timeout` is keyword-only there, so `*args` cannot hold it
    assert (10, "TMO101") in got
    # a star import still resolves: `get(url)` is `requests.get`
    assert lines(ruleset, "from requests import *\nget(url)\nget(url, **kw)\n", "TMO101") == [2]
    assert lines(ruleset, "from tenacity import *\n@retry\ndef f(): ...\n", "RTY101") == [2]


@pytest.mark.parametrize(
    "code",
    [
        "",
        "x = 1\n",
        "import requests\nrequests.get\n",
        "import requests\nrequests.get(\n    'u', timeout=(\n        1,\n    ),\n)\n",
        "async def f():\n    async with aiohttp.ClientSession() as s:\n        async for x in s.get(u):\n            pass\n",
        "while True:\n    try:\n        pass\n    except:\n        continue\n",
        "while True:\n    try:\n        import requests\n        requests.get(u, timeout=1)\n        break\n    except* OSError:\n        continue\n",
        "class C:\n    stub = foo_pb2_grpc.FooStub(ch)\n    stub.Get(r)\n",
        "s = socket.socket()\ns.connect(addr)\n",
        "def f(socket):\n    socket.connect(addr)\n",
        "match x:\n    case '0.0.0.0':\n        pass\n",
    ],
)
def test_odd_shapes_never_crash(ruleset, code):
    found(ruleset, code)


def test_bad_certificate_bytes_never_crash(ruleset):
    cases = [
        b"",
        b"\x00\xff" * 100,
        b"-----BEGIN CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\x30\x82\xff\xff" + b"\x00" * 50,
        "caf\xe9 not pem".encode("latin-1"),
        b"-----BEGIN CERTIFICATE-----\n" + b"A" * 100_000 + b"\n-----END CERTIFICATE-----\n",
    ]
    for data in cases:
        for name in ("x.pem", "x.der", "x.key", "tls.crt"):
            result = lint_unit("cert", name, data, ruleset, siblings={"tls.key": b"\x00garbage"})
            assert all(f.rule_id.startswith("CRT") for f in result.findings)


# --------------------------------------------------------------------------- timeouts

def test_requests_sessions_on_self_module_and_with(ruleset):
    code = """\
        import requests
        from requests.adapters import HTTPAdapter
        SESSION = requests.Session()
        SESSION.mount("https://", HTTPAdapter(max_retries=3))
        class Api:
            def __init__(self):
                self.s = requests.session()
            def go(self, u):
                return self.s.request("GET", u)
        def f(u):
            with requests.Session() as s:
                s.get(u)
            return SESSION.post(u)
        requests.Session().get(u)
        """
    assert lines(ruleset, code, "TMO101") == [9, 12, 13, 14]


def test_custom_adapter_or_partial_gives_the_session_a_timeout(ruleset):
    code = """\
        import functools, requests
        from myapp.http import TimeoutAdapter
        s = requests.Session()
        s.mount("https://", TimeoutAdapter(timeout=5))
        s.get(u)
        t = requests.Session()
        t.request = functools.partial(t.request, timeout=5)
        t.get(u)
        other = requests.Session()
        other.get(u)
        """
    assert lines(ruleset, code, "TMO101") == [10]


def test_timeout_disabled_and_missing_are_separate(ruleset):
    code = """\
        import socket, urllib3, http.client, aiohttp, psycopg2
        urllib3.PoolManager()
        urllib3.PoolManager(timeout=None)
        http.client.HTTPConnection("h")
        http.client.HTTPConnection("h", 80, None)
        socket.setdefaulttimeout(None)
        psycopg2.connect("dbname=x connect_timeout=5")
        psycopg2.connect(dbname="x", connect_timeout="0")
        async def f(s: aiohttp.ClientSession):
            async with aiohttp.ClientSession() as s:
                await s.get(u, timeout=None)
        """
    got = found(ruleset, code)
    assert [x for x in got if x[1] in ("TMO102", "TMO104", "TMO110")] == [
        (2, "TMO104"), (3, "TMO102"), (4, "TMO104"), (5, "TMO102"), (6, "TMO102"), (8, "TMO102"), (11, "TMO102"),
    ]
    assert (10, "TMO105") in got


def test_timeout_chosen_on_purpose_in_the_same_function(ruleset):
    code = """\
        import socket, requests
        def a(address, timeout=None):
            if timeout is not None:
                return socket.create_connection(address, timeout)
            return socket.create_connection(address)
        def b(u):
            requests.get(u, timeout=5)
            return requests.get(u)
        requests.get(x, timeout=t)
        requests.get(x)
        """
    # a literal timeout elsewhere, or module-level code, does not excuse the call without one
    assert lines(ruleset, code, "TMO101", "TMO104") == [8, 10]


def test_max_timeout_setting_rule_option_and_default(tmp_path_factory, ruleset):
    code = "import requests\nrequests.get(u, timeout=400)\nrequests.get(u, timeout=(3, 250))\n"
    assert lines(ruleset, code, "TMO103") == [2]
    low = make_ruleset(tmp_path_factory, **{"max-timeout": 200})
    assert lines(low, code, "TMO103") == [2, 3]
    option = make_ruleset(tmp_path_factory, **{"max-timeout": 200, "rule-options": {"TMO103": {"max-timeout": 500}}})
    assert lines(option, code, "TMO103") == []
    msg = [f.message for f in lint_unit("python", "m.py", code.encode(), low).findings if f.rule_id == "TMO103"]
    assert msg[0] == "`requests.get` waits up to 400 s, above the 200 s maximum"


def test_grpc_stubs_tracked_through_names(ruleset):
    code = """\
        import grpc
        from api.v1 import orders_pb2_grpc as rpc
        STUB = rpc.OrderStub(grpc.insecure_channel("localhost:1"))
        def a(req):
            return STUB.Get(req)
        class C:
            def __init__(self, ch):
                self.stub = rpc.OrderStub(ch)
            def b(self, req):
                return self.stub.List.with_call(req, timeout=1)
            def c(self, req, **kw):
                return self.stub.List(req, **kw)
            def d(self, req):
                return self.stub.Get(req, metadata=())
        def e(req):
            stub = rpc.OrderStub(None)
            return stub.Get(req, None, ())
        def f(stub, req):
            return stub.Get(req)
        """
    assert lines(ruleset, code, "TMO107") == [5, 14]


def test_socket_connect_needs_settimeout_in_the_same_function(ruleset):
    code = """\
        import socket
        def a(addr):
            s = socket.socket()
            s.connect(addr)
        def b(addr):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(addr)
        def c(addr):
            s = socket.socket()
            helper(s)
            s.connect(addr)
        """
    assert lines(ruleset, code, "TMO108") == [4, 12]
    assert lines(ruleset, code + "socket.setdefaulttimeout(5)\n", "TMO108") == []


def test_subprocess_rule_is_preview(tmp_path_factory):
    stable = make_ruleset(tmp_path_factory, preview=False)
    code = "import subprocess\nsubprocess.run(['ls'])\n"
    assert lines(stable, code, "TMO111") == []


# --------------------------------------------------------------------------- retries

def test_tenacity_bare_decorator_and_calls(ruleset):
    code = """\
        import tenacity
        from tenacity import retry, stop_after_attempt, wait_fixed
        @retry
        def a(): ...
        @tenacity.retry()
        def b(): ...
        @retry(stop=stop_after_attempt(3), wait=wait_fixed(1))
        def c(): ...
        r = tenacity.Retrying(stop=tenacity.stop_never, wait=tenacity.wait_random(0, 1))
        """
    assert found(ruleset, code) == [
        (3, "RTY101"), (3, "RTY102"), (5, "RTY101"), (5, "RTY102"), (7, "RTY103"), (9, "RTY101"),
    ]


def test_retry_loop_shapes(ruleset):
    code = """\
        import time, requests, socket
        def a(u):
            while True:
                try:
                    return requests.get(u, timeout=1)
                except requests.ConnectionError:
                    continue
        def b(u):
            while True:
                try:
                    r = requests.get(u, timeout=1)
                except requests.ConnectionError:
                    time.sleep(1)
                    continue
                break
        def c(u):
            while True:
                try:
                    for x in range(3):
                        break
                    requests.get(u, timeout=1)
                except OSError:
                    continue
        def d(addr):
            while True:
                try:
                    return socket.create_connection(addr, 1)
                except OSError: continue
        def e(u):
            while True:
                try:
                    return parse(u)
                except ValueError:
                    continue
        """
    assert lines(ruleset, code, "RTY107") == [3, 25]


# --------------------------------------------------------------------------- ports

def test_port_rules_do_not_run_in_test_code(ruleset):
    code = 'import grpc, requests\ngrpc.insecure_channel("localhost:50051")\nrequests.get("http://api.internal:8080/", timeout=1)\n'
    assert lines(ruleset, code, "PRT103", "PRT104", path="src/app.py") == [2, 3]
    for path in ("tests/test_app.py", "pkg/tests/helpers.py", "test_app.py", "app_test.py", "conftest.py", "docs/example.py"):
        assert lines(ruleset, code, "PRT103", "PRT104", path=path) == [], path


def test_port_from_configuration_is_not_hardcoded(ruleset):
    code = """\
        import os
        from flask import Flask
        app = Flask(__name__)
        app.run(port=int(os.environ.get("PORT", "8080")))
        app.run(port=settings.PORT)
        import redis
        redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.getenv("REDIS_PORT", "6379")), socket_timeout=1)
        """
    assert lines(ruleset, code, "PRT") == []


def test_address_helpers():
    assert template(None) is None
    hp = split_host_port("[::]:50051")
    assert (hp.host, hp.port) == ("::", 50051)
    assert split_host_port("dns:///orders.svc:443").port == 443
    assert split_host_port("unix:///run/x.sock").port is None
    assert split_host_port("fe80::1").port is None
    assert url_host_port("postgresql://u:p@db:5432,db2:5433/app").port == 5432
    assert url_host_port("not a url") is None
    assert is_loopback("127.0.0.5") and is_loopback("[::1]") and is_loopback("localhost") and not is_loopback("10.0.0.1")


# --------------------------------------------------------------------------- TLS

def test_starttls_and_ssl_clients(ruleset):
    code = """\
        import smtplib, ssl
        s = smtplib.SMTP("mail", 587, timeout=5)
        s.starttls()
        s.starttls(context=ssl.create_default_context())
        s.starttls(None, None, ssl.create_default_context())
        s.starttls(context=None)
        """
    assert lines(ruleset, code, "TLS112") == [3, 6]


def test_paramiko_policies(ruleset):
    code = """\
        import paramiko
        from paramiko import client
        c = client.SSHClient()
        c.set_missing_host_key_policy(client.AutoAddPolicy)
        c.set_missing_host_key_policy(paramiko.WarningPolicy())
        c.set_missing_host_key_policy(client.RejectPolicy())
        c.set_missing_host_key_policy(policy=foo)
        c.set_missing_host_key_policy()
        """
    assert lines(ruleset, code, "TLS113") == [4, 5]


def test_env_writes(ruleset):
    code = """\
        import os
        os.environ["PYTHONHTTPSVERIFY"] = "0"
        os.environ["PYTHONHTTPSVERIFY"] = "1"
        os.environ["CURL_CA_BUNDLE"] = "/etc/ssl/ca.pem"
        os.environ.update(REQUESTS_CA_BUNDLE="")
        environ = {}
        environ["CURL_CA_BUNDLE"] = ""
        """
    assert lines(ruleset, code, "TLS114") == [2, 5]


def test_grpc_plaintext_only_for_known_non_loopback_targets(ruleset):
    code = """\
        import grpc
        grpc.insecure_channel("localhost:1")
        grpc.insecure_channel("[::1]:1")
        grpc.insecure_channel(f"{host}:50051")
        grpc.insecure_channel("orders:50051")
        grpc.aio.insecure_channel(target="10.1.2.3:50051")
        """
    assert lines(ruleset, code, "TLS110") == [5, 6]


# --------------------------------------------------------------------------- analyzer extensions

def test_decorator_reports_the_decorator_line_and_has_no_fix(ruleset):
    code = "import tenacity\n\n@tenacity.retry\ndef f():\n    pass\n"
    result = lint_unit("python", "m.py", code.encode(), ruleset)
    (finding,) = [f for f in result.findings if f.rule_id == "RTY101"]
    assert finding.region.line == 3 and finding.fix is None
    assert "retries forever" in finding.message and finding.message.startswith("`@tenacity.retry`")


def test_add_kwarg_fix_after_a_parenthesised_argument(ruleset):
    code = "import socket\nsocket.create_connection((h, 1))\n"
    (finding,) = [f for f in lint_unit("python", "m.py", code.encode(), ruleset).findings if f.rule_id == "TMO104"]
    (edit,) = finding.fix.edits
    assert (edit.region.line, edit.region.column, edit.text) == (2, 32, ", timeout=10")  # after `(h, 1)`


def test_every_rule_has_examples_and_a_since_its_pack_has_reached():
    from packaging.version import Version

    for rule in MY_RULES:
        assert rule.valid and rule.invalid, rule.id
    for pack in PACKS:
        for rule in pack.rules:
            assert Version(rule.since) <= Version(pack.version), (rule.id, rule.since, pack.version)


# --------------------------------------------------------------------------- certificate files

NOW = datetime.now(timezone.utc)


def cert_pem(key, cn="svc.example.com", *, days=365, start=None, san=True) -> bytes:
    start = start or NOW - timedelta(days=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + timedelta(days=days))
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def key_pem(key, password: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


@pytest.fixture(scope="module")
def keys():
    return {"a": ec.generate_private_key(ec.SECP256R1()), "b": ec.generate_private_key(ec.SECP256R1()), "ed": ed25519.Ed25519PrivateKey.generate()}


def test_cert_tree_through_the_cli(tmp_path, monkeypatch, capsys, keys):
    monkeypatch.chdir(tmp_path)
    a, b = keys["a"], keys["b"]
    write(tmp_path, {
        "deploy/tls.crt": cert_pem(a),
        "deploy/tls.key": key_pem(b),  # not the certificate's key
        "deploy/ok.crt": cert_pem(a),
        "deploy/ok.key": key_pem(a, b"pw"),  # encrypted: nothing to compare, nothing to report
        "old/server.pem": cert_pem(a, days=10, start=NOW - timedelta(days=400)),
        "soon/server.pem": cert_pem(a, days=20),
        "nosan.cer": cert_pem(a, san=False),
        "der/server.der": x509.load_pem_x509_certificate(cert_pem(a)).public_bytes(serialization.Encoding.DER),
        "der/key.der": b.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "docs/readme.pem": b"not a certificate at all\n",
        "weak/rsa.crt": cert_pem(rsa.generate_private_key(65537, 1024)),
    })
    code, out, _ = run(capsys, "check", "--format", "json", "--select", "CRT", ".")
    doc = json.loads(out)
    got = sorted((f["filename"], f["location"]["row"], f["code"]) for f in doc["findings"])
    assert got == [
        ("deploy/tls.crt", 1, "CRT106"),
        ("deploy/tls.key", 1, "CRT107"),
        ("der/key.der", 1, "CRT107"),
        ("nosan.cer", 1, "CRT105"),
        ("old/server.pem", 1, "CRT101"),
        ("soon/server.pem", 1, "CRT102"),
        ("weak/rsa.crt", 1, "CRT104"),
    ]
    assert code == 1
    mismatch = next(f for f in doc["findings"] if f["code"] == "CRT106")["message"]
    assert "key file `tls.key`" in mismatch and "SHA-256 fingerprint" in mismatch
    # key material is never printed
    for name in ("deploy/tls.key", "der/key.der"):
        body = (tmp_path / name).read_bytes()
        chunks = [line for line in body.splitlines() if line and not line.startswith(b"-----")]
        assert not any(c.decode("latin-1")[:20] in out for c in chunks if len(c) >= 20)


def test_cert_expiry_days_setting(tmp_path, monkeypatch, capsys, keys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"server.pem": cert_pem(keys["a"], days=60), "pyproject.toml": "[tool.pitfall]\ncert-expiry-days = 90\n"})
    _, out, _ = run(capsys, "check", "--format", "json", "--select", "CRT102", ".")
    assert [f["code"] for f in json.loads(out)["findings"]] == ["CRT102"]


def test_cert_suppressions_and_per_file_ignores(tmp_path, monkeypatch, capsys, keys):
    monkeypatch.chdir(tmp_path)
    key = key_pem(keys["ed"]).decode()
    write(tmp_path, {
        "a/dev.key": "# pitfall: ignore[CRT107] throwaway key for the local stack\n" + key,
        "local/test.key": key,
        "c/dev.key": key,
        "fixtures/test.key": key,  # test data: certificate rules do not run there
        "pyproject.toml": '[tool.pitfall]\nper-file-ignores = {"local/*" = ["CRT"]}\n',
    })
    _, out, _ = run(capsys, "check", "--format", "json", "--select", "CRT,LNT", ".")
    doc = json.loads(out)
    state = {f["filename"]: (f["suppression"] or {}).get("origin") for f in doc["findings"]}
    assert state == {"a/dev.key": "comment", "local/test.key": "per-file-ignores", "c/dev.key": None}


def test_pem_begin_line_is_read_as_openssl_reads_it(keys):
    pem = cert_pem(keys["a"]).decode()
    (block,) = certs.pem_blocks((pem.replace("-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----  \t", 1)).encode())
    assert block.error is None and block.data  # trailing blanks: OpenSSL strips them too
    # text after the marker: OpenSSL finds no start line, so neither block nor certificate
    trailing = pem.replace("-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----  # error", 1).encode()
    assert not certs.looks_like_cert_or_key(trailing)
    assert all(b.data is None for b in certs.pem_blocks(trailing))
    code = b'x = "-----BEGIN CERTIFICATE-----"  # a comment\n'
    assert certs.pem_blocks(code) == [] and not certs.looks_like_cert_or_key(code)


def test_sibling_key_names_and_reading(tmp_path, keys):
    from linter.certs import siblings

    assert siblings.sibling_names("tls.crt")[0] == "tls.key"
    assert "x-key.pem" in siblings.sibling_names("x.pem")
    assert "server-key.pem" in siblings.sibling_names("server-cert.pem")
    assert "privkey.pem" in siblings.sibling_names("fullchain.pem")
    assert siblings.sibling_names("chain.pem") == [] and siblings.sibling_names("a.key") == []
    (tmp_path / "tls.crt").write_bytes(cert_pem(keys["a"]))
    assert siblings.read_siblings(str(tmp_path / "tls.crt")) == {}
    (tmp_path / "tls.key").write_bytes(b"not a key")
    (tmp_path / "tls-key.pem").write_bytes(key_pem(keys["a"]))
    assert list(siblings.read_siblings(str(tmp_path / "tls.crt"))) == ["tls-key.pem"]
    assert siblings.read_siblings(str(tmp_path / "tls.crt"), max_size=10) == {}


def test_cert_rules_run_only_when_selected(tmp_path_factory, keys):
    rs = make_ruleset(tmp_path_factory, select=["TMO"])
    assert lint_unit("cert", "x.key", key_pem(keys["ed"]), rs).findings == ()

"""Every bad input from the reliability review, through the real command: a one-line error
and its exit code (2 usage, 3 config) before anything connects; never exit 1, never a
traceback. Nothing here starts a server: a check that came too late would hang or fail
with a network error instead."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens: a late check would give exit 6, not 2


def wav_header(rate: int, data_len: int) -> bytes:
    return (b"RIFF" + struct.pack("<I", 36 + data_len) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, (rate * 2) & 0xFFFFFFFF, 2, 16)
            + b"data" + struct.pack("<I", data_len))


def fill(args: list[str], tmp: Path) -> list[str]:
    """``{name}`` in an argument: the path of that file made in ``tmp``."""
    paths = files(tmp)
    out = []
    for arg in args:
        for name, path in paths.items():
            arg = arg.replace("{" + name + "}", str(path))
        out.append(arg)
    return out


def files(tmp: Path) -> dict[str, Path]:
    made = {
        "empty.wav": wav_header(16000, 0),
        "huge-rate.wav": wav_header(2**31, 3200) + b"\0" * 3200,
        "truncated.wav": wav_header(16000, 0)[:20],
        "text.wav": b"this is not audio\n",
        "zero.wav": b"",
        "bad.toml": b"[profiles.p]\nurl = \"\xff\xfe\"\n",
        "headers.toml": b'[profiles.p]\ndialect = "atoms"\nheaders = "oops"\n',
        "profiles.toml": b"profiles = 5\n",
        "variables.toml": b"[profiles.p]\nvariables = 3\n",
        "rate.toml": b'[profiles.p]\nsample_rate = "fast"\n',
        "url.toml": b'[profiles.p]\nurl = "http://[::1"\n',
        "header-value.toml": b'[profiles.p]\n[profiles.p.headers]\nX-Token = 5\n',
        "default.toml": b"default_profile = 7\n",
        "rate-bool.toml": b"[profiles.p]\nsample_rate = true\n",
        "profile-scalar.toml": b'[profiles]\np = "atoms"\n',
        "dialect.toml": b'[profiles.p]\ndialect = "klingon"\n',
        "misspelt.toml": b'[profiles.p]\ndialct = "atoms"\n',
        "secrets.toml": (b'[profiles.p]\napi_key = "sk_live_SECRET1"\nheaders = "Bearer SECRET2"\n'
                         b'sample_rate = "fast"\n[profiles.q]\ntoken = "SECRET3"\n'),
    }
    for name, data in made.items():
        (tmp / name).write_bytes(data)
    (tmp / "a-dir").mkdir(exist_ok=True)
    return {name: tmp / name for name in [*made, "a-dir"]}


CASES: list[tuple[str, list[str], int, str]] = [
    ("empty text", ["smoke", "--text", ""], 2, "--text must not be empty"),
    ("blank text", ["smoke", "--text", "   "], 2, "--text must not be empty"),
    ("wav with no frames", ["smoke", "--audio", "{empty.wav}"], 2, "holds no audio (0 frames)"),
    ("wav rate 2**31", ["smoke", "--audio", "{huge-rate.wav}"], 2, "cannot read audio file"),
    ("truncated wav", ["smoke", "--audio", "{truncated.wav}"], 2, "cannot read audio file"),
    ("text as audio", ["smoke", "--audio", "{text.wav}"], 2, "Format not recognised"),
    ("empty file as audio", ["smoke", "--audio", "{zero.wav}"], 2, "cannot read audio file"),
    ("directory as audio", ["smoke", "--audio", "{a-dir}"], 2, "not an audio file (a directory?)"),
    ("missing audio", ["smoke", "--audio", "{a-dir}/nope.wav"], 2, "audio file not found"),
    ("--out a directory", ["smoke", "--out", "{a-dir}"], 2, "is a directory"),
    ("--out under a file", ["smoke", "--out", "{text.wav}/x.wav"], 2, "is not a directory"),
    ("broken IPv6 URL", ["smoke", "--url", "http://[::1"], 2, "not a usable URL: 'http://[::1' (Invalid IPv6 URL)"),
    ("port 99999", ["smoke", "--url", "http://127.0.0.1:99999"], 2, "Port out of range"),
    ("no host", ["smoke", "--url", "http://"], 2, "not a usable URL"),
    ("bad scheme", ["smoke", "--url", "ftp://example.com"], 2, "not a usable URL"),
    ("timeout -1", ["smoke", "--url", UNREACHABLE, "--timeout", "-1"], 2, "--timeout must be"),
    ("timeout 0", ["smoke", "--url", UNREACHABLE, "--timeout", "0"], 2, "--timeout must be"),
    ("timeout nan", ["smoke", "--url", UNREACHABLE, "--timeout", "nan"], 2, "--timeout must be"),
    ("timeout inf", ["smoke", "--url", UNREACHABLE, "--timeout", "inf"], 2, "--timeout must be"),
    ("interrupt nan", ["smoke", "--url", UNREACHABLE, "--interrupt-after", "nan"], 2, "--interrupt-after must be"),
    ("interrupt -1", ["smoke", "--url", UNREACHABLE, "--interrupt-after", "-1"], 2, "--interrupt-after must be"),
    ("sample rate 0", ["smoke", "--url", UNREACHABLE, "--sample-rate", "0"], 2, "--sample-rate must be between"),
    ("talk sample rate 0", ["talk", "--url", UNREACHABLE, "--sample-rate", "0"], 2, "--sample-rate must be between"),
    ("non-UTF-8 config", ["smoke", "--config", "{bad.toml}"], 3, "bad.toml: not UTF-8 text"),
    ("headers = 'oops'", ["smoke", "--config", "{headers.toml}"], 3,
     'headers.toml: profiles.p.headers: expected a table of strings (header name = "value"), got a string'),
    ("header value not a string", ["smoke", "--config", "{header-value.toml}"], 3,
     "profiles.p.headers: expected a table of strings (header name = \"value\"), "
     "got a table whose X-Token is an integer"),
    ("profiles not a table", ["smoke", "--config", "{profiles.toml}"], 3,
     "profiles.toml: profiles: expected a table of profiles"),
    ("variables not a table", ["smoke", "--config", "{variables.toml}"], 3,
     "profiles.p.variables: expected a table, got an integer"),
    ("sample_rate a string", ["smoke", "--config", "{rate.toml}"], 3,
     "profiles.p.sample_rate: expected a positive whole number, got a string"),
    ("sample_rate true", ["smoke", "--config", "{rate-bool.toml}"], 3,
     "profiles.p.sample_rate: expected a positive whole number, got a boolean"),
    ("profile not a table", ["smoke", "--config", "{profile-scalar.toml}"], 3,
     "profile-scalar.toml: profiles.p: expected a table, got a string"),
    ("unknown dialect", ["smoke", "--config", "{dialect.toml}"], 3,
     "profiles.p.dialect: expected one of atoms, elevenlabs, token-pcm, voiceagent, perfvoice, got 'klingon'"),
    ("misspelt key", ["smoke", "--config", "{misspelt.toml}"], 3,
     "profiles.p.dialct: unknown key (a profile takes agent, description, dialect,"),
    ("profile url broken", ["smoke", "--config", "{url.toml}"], 3, "url.toml: profiles.p.url: not a usable URL"),
    ("default_profile a number", ["smoke", "--config", "{default.toml}"], 3,
     "default.toml: default_profile: expected a string, got an integer"),
    ("talk: headers = 'oops'", ["talk", "--config", "{headers.toml}"], 3,
     "headers.toml: profiles.p.headers: expected a table of strings"),
]


@pytest.mark.parametrize(("args", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(cli: Cli, tmp_path: Path, args: list[str], code: int, words: str) -> None:
    proc = cli.run(*fill(args, tmp_path), timeout=20)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("voicecli: error: "), proc.stderr
    assert words in lines[0], lines[0]


@pytest.mark.parametrize("args", [["serve", "--port", "99999"], ["serve", "--port", "-1"],
                                  ["smoke", "--timeout", "abc"], ["smoke", "--sample-rate", "x"]],
                         ids=["serve port 99999", "serve port -1", "timeout abc", "sample rate x"])
def test_option_parser_errors_are_usage_errors(cli: Cli, args: list[str]) -> None:
    proc = cli.run(*args, timeout=20, process=True)  # the real interpreter prints no traceback
    assert proc.returncode == 2, proc.stderr
    assert "Invalid value" in proc.stderr and "Traceback" not in proc.stderr


REPORT_FIELDS = {"ok", "dialect", "url", "connect_ms", "session_ready_ms", "session_id", "conversation_id",
                 "greeting", "turns", "agent_audio_s", "warnings", "error", "exit_code"}


@pytest.mark.parametrize(("args", "code"), [(["--timeout", "nan"], 2), (["--timeout", "abc"], 2),
                                            (["--bogus"], 2), (["extra-argument"], 2),
                                            (["--config", "{bad.toml}"], 3), (["--config", "{headers.toml}"], 3),
                                            (["--config", "{headers.toml}", "--profile", "nope"], 3),
                                            (["--text", ""], 2), (["--url", UNREACHABLE, "--agent", "a"], 6)],
                         ids=["nan", "parser", "unknown option", "extra argument", "config", "config field",
                              "no such profile", "empty text", "refused"])
def test_smoke_json_prints_json_for_every_failure(cli: Cli, tmp_path: Path, args: list[str], code: int) -> None:
    """The same report object (one line on stdout) whichever layer failed: the option parser,
    the config file, the checks or the connection."""
    proc = cli.run("smoke", "--json", *fill(args, tmp_path), timeout=20)
    assert proc.stdout.count("\n") == 1, proc.stdout
    report = json.loads(proc.stdout)
    assert proc.returncode == code == report["exit_code"], proc.stderr
    assert report["ok"] is False and report["error"]
    assert set(report) == REPORT_FIELDS


def test_every_bad_field_is_one_line_and_no_value_is_echoed(cli: Cli, tmp_path: Path) -> None:
    """Three bad fields in one profile and a key in another: four lines, each naming the file
    and key; the values (secrets, as often as not) appear nowhere, with --json neither."""
    path = fill(["{secrets.toml}"], tmp_path)[0]
    proc = cli.run("smoke", "--config", path, timeout=60)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"voicecli: error: {path}: profiles.p.api_key: unknown key: API keys never go in the config file; "
        "name the environment variable that holds one with key_env",
        f'voicecli: error: {path}: profiles.p.headers: expected a table of strings (header name = "value"), '
        "got a string",
        f"voicecli: error: {path}: profiles.p.sample_rate: expected a positive whole number, got a string",
        f"voicecli: error: {path}: profiles.q.token: unknown key: API keys never go in the config file; "
        "name the environment variable that holds one with key_env",
    ]
    as_json = cli.run("smoke", "--json", "--config", path, timeout=60)
    report = json.loads(as_json.stdout)
    assert as_json.returncode == report["exit_code"] == 3
    assert report["error"].splitlines() == [line.removeprefix("voicecli: error: ") for line in lines]
    for output in (proc.stdout, proc.stderr, as_json.stdout, as_json.stderr):
        assert "SECRET" not in output and "fast" not in output

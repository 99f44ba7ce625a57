"""`voicecli doctor`: the audio stack with the PulseAudio test bed up and down, each
profile's key (never printed) and host (loopback servers only: plain TCP, TLS with a
trusted and an untrusted certificate, a closed port), a table or JSON, and the exit code of
the first thing missing."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import TEST_KEY, Cli
from tests.support.pulse import PulseBed


def doctor(cli: Cli, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    proc = cli.run("doctor", "--json", *args, extra_env=env, timeout=60)
    data = json.loads(proc.stdout)
    assert data["exit_code"] == proc.returncode, proc.stderr
    return proc.returncode, data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in data["checks"]}


@pytest.mark.pulse
def test_with_the_audio_bed_up_the_devices_open_and_nothing_is_missing(cli: Cli, pulse_bed: PulseBed) -> None:
    code, data = doctor(cli, env={"PULSE_SERVER": pulse_bed.server})
    checks = by_name(data)
    assert code == 0 and data["ok"], data
    assert checks["PortAudio"]["status"] == "ok"
    assert checks["sound server"]["status"] == "ok"
    mic = checks["input device (default)"]
    assert mic["status"] == "ok" and "opens at" in mic["detail"]
    assert checks["output device (default)"]["status"] == "ok"
    # the bed's microphone is a pipe, not the speaker: the tone is not heard, and that is no failure
    assert checks["loopback"]["status"] == "info" and "did not hear" in checks["loopback"]["detail"]
    table = cli.run("doctor", "--no-network", extra_env={"PULSE_SERVER": pulse_bed.server}, timeout=60)
    assert table.returncode == 0 and table.stdout.rstrip().endswith("ready")
    assert "  ok    sound server" in table.stdout


@pytest.mark.pulse
def test_the_loopback_check_hears_a_microphone_that_hears_the_speaker(cli: Cli, pulse_bed: PulseBed) -> None:
    code, data = doctor(cli, env={"PULSE_SERVER": pulse_bed.server, "PULSE_SOURCE": "spk.monitor"})
    assert code == 0
    loop = by_name(data)["loopback"]
    assert loop["status"] == "ok" and "heard the speaker" in loop["detail"], loop


@pytest.mark.pulse
def test_a_named_device_that_does_not_exist_fails_with_the_audio_code(cli: Cli, pulse_bed: PulseBed) -> None:
    code, data = doctor(cli, "--input-device", "no-such-mic", env={"PULSE_SERVER": pulse_bed.server})
    assert code == 10
    check = by_name(data)["input device 'no-such-mic'"]
    assert check["status"] == "fail" and "no input device matches 'no-such-mic'" in check["detail"]


def test_with_the_audio_bed_down_the_devices_are_missing(cli: Cli, tmp_path: Path) -> None:
    code, data = doctor(cli, env={"PULSE_SERVER": f"unix:{tmp_path}/no-server"})
    checks = by_name(data)
    assert code == 10 and not data["ok"]
    assert checks["sound server"]["status"] == "warn" and "no PulseAudio/PipeWire" in checks["sound server"]["detail"]
    assert checks["input device (default)"]["status"] == "fail"
    table = cli.run("doctor", extra_env={"PULSE_SERVER": f"unix:{tmp_path}/no-server"}, timeout=60)
    assert table.returncode == 10
    assert "FAIL  input device (default)" in table.stdout and "problems: input device" in table.stdout


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_port(tls_cert: tuple[Path, Path]) -> Iterator[int]:
    """A loopback server that completes TLS handshakes (and nothing else)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, tls_cert))
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except OSError:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(cli: Cli, text: str) -> None:
    folder = Path(cli.env["XDG_CONFIG_HOME"]) / "voicecli"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)


def test_profiles_key_present_never_printed_and_host_through_tls(cli: Cli, tls_port: int,
                                                                 tls_cert: tuple[Path, Path]) -> None:
    write_config(cli, f'[profiles.secure]\ndialect = "atoms"\nurl = "wss://127.0.0.1:{tls_port}/x"\nagent = "a"\n')
    code, data = doctor(cli, "--no-audio", env={"SSL_CERT_FILE": str(tls_cert[0])})
    checks = by_name(data)
    assert code == 0, data
    assert checks["secure: key"] == {"group": "profile", "name": "secure: key", "status": "ok",
                                     "detail": "set (SMALLEST_API_KEY)", "exit_code": 0}
    assert checks["secure: host"]["status"] == "ok" and "TLSv1.3" in checks["secure: host"]["detail"]
    table = cli.run("doctor", "--no-audio", extra_env={"SSL_CERT_FILE": str(tls_cert[0])})
    assert TEST_KEY not in table.stdout + table.stderr and TEST_KEY not in json.dumps(data)


def test_an_untrusted_certificate_fails_the_handshake(cli: Cli, tls_port: int) -> None:
    write_config(cli, f'[profiles.selfsigned]\ndialect = "atoms"\nurl = "wss://127.0.0.1:{tls_port}"\nagent = "a"\n')
    code, data = doctor(cli, "--no-audio")
    host = by_name(data)["selfsigned: host"]
    assert code == 6 and host["status"] == "fail"
    assert "TLS handshake failed" in host["detail"] and "certificate" in host["detail"], host


def test_a_closed_port_and_a_missing_key_are_named(cli: Cli) -> None:
    port = closed_port()
    write_config(cli, f'[profiles.down]\ndialect = "perfvoice"\nurl = "ws://127.0.0.1:{port}"\nagent = "a"\n'
                      '[profiles.offline]\ndialect = "atoms"\n')
    code, data = doctor(cli, "--no-audio")
    checks = by_name(data)
    assert checks["down: key"]["status"] == "fail" and "PERFVOICE_API_KEY" in checks["down: key"]["detail"]
    host = checks["down: host"]
    assert host["status"] == "fail" and f"127.0.0.1:{port} not reachable" in host["detail"]
    assert checks["offline"]["status"] == "info"  # no url: the built-in local agent
    assert code == 3  # the first failure: the missing key
    skipped = by_name(doctor(cli, "--no-audio", "--no-network")[1])
    assert "down: host" not in skipped

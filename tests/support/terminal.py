"""A real terminal for tests: tmux with send-keys and capture-pane."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.support.priority import raise_process
from tests.support.waiting import patience

PROMPT = "READY>"


def voicecli_command() -> list[str]:
    script = Path(sys.executable).parent / "voicecli"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "voicecli"]


class Tmux:
    def __init__(self, socket: str, session: str) -> None:
        self.socket, self.session = socket, session

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-t", self.session)  # -J: wrapped lines joined

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 20.0,
                 log: Path | None = None) -> str:
        """The screen once ``predicate`` holds; past the deadline, an error with the screen
        and, with ``log`` (the app's ``--log-file``), the log's last lines: where it waits."""
        end = time.monotonic() + patience(timeout)
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{text}" + log_tail(log)
                                     + self.processes())
            time.sleep(0.2)  # each look is a tmux process: a few ms of CPU, 5-10 times a second

    def processes(self) -> str:
        """The pane's processes, for a failure's message: state, what each waits in (wchan),
        age and CPU time, so a stalled app says whether it runs, sleeps or never started."""
        try:
            pane = int(self.run("display-message", "-p", "-t", self.session, "#{pane_pid}").strip())
            table = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,ni=,stat=,wchan:24=,etime=,time=,args="],
                                   capture_output=True, text=True, timeout=10).stdout.splitlines()
        except (OSError, ValueError, subprocess.SubprocessError, AssertionError) as exc:
            return f"\n(no process list: {exc})"
        rows: dict[int, tuple[int, str]] = {}  # pid: (parent, the whole row)
        for line in filter(str.strip, table):
            pid, parent = line.split()[:2]
            rows[int(pid)] = (int(parent), line)
        tree, todo = [], [pane]
        while todo:
            pid = todo.pop(0)
            if pid in rows:
                tree.append(rows[pid][1][:200])
                todo += [child for child, (parent, _) in rows.items() if parent == pid]
        return "\nthe pane's processes (pid ppid nice stat wchan elapsed cpu args):\n" + "\n".join(tree)

    @contextlib.contextmanager
    def held(self, key: str, delay: float = 0.5, interval: float = 0.1) -> Iterator[None]:
        """``key`` held down for the block: pressed at once, repeated every ``interval`` after
        ``delay`` (a terminal's auto-repeat), released at the end."""
        holder = subprocess.Popen([sys.executable, "-c", _HOLD_SCRIPT, self.socket, self.session, key,
                                   str(delay), str(interval)], stdin=subprocess.PIPE,
                                  start_new_session=True)  # a session of its own: its own CPU share
        raise_process(holder.pid, -10)
        assert holder.stdin is not None
        try:
            yield
        finally:
            holder.stdin.close()  # the release: the holder stops at once
            try:
                holder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait()


# A key held down, as a keyboard sends it: one press, the initial delay, then repeats until
# released. A process and session of its own, raised where allowed (tests.support.priority): a
# busy test process or machine would otherwise space the repeats out past the app's release
# gap, as no keyboard does.
_HOLD_SCRIPT = """
import select, subprocess, sys
socket, session, key, delay, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
client = subprocess.Popen(["tmux", "-L", socket, "-C", "attach-session", "-t", session],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
def press():
    client.stdin.write("send-keys -t %s %s\\n" % (session, key))
    client.stdin.flush()
press()
wait = delay
while not select.select([sys.stdin], [], [], wait)[0]:
    press()
    wait = interval
client.stdin.close()
client.wait(10)
"""


def log_tail(log: Path | None, lines: int = 40) -> str:
    """The last ``lines`` of an app's log file, for a failure's message ('' without one)."""
    if log is None:
        return ""
    try:
        tail = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"\nno log at {log}: {exc}"
    return f"\nthe app's log ({log}), last {len(tail)} lines:\n" + "\n".join(tail)


@contextlib.contextmanager
def open_tmux(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[Tmux]:
    """A 120x40 tmux session running bash with a known prompt and private XDG dirs."""
    socket = f"voicecli-test-{os.getpid()}-{time.monotonic_ns()}"
    term = Tmux(socket, "talk")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TMUX")}
    env["TERM"] = "xterm-256color"
    env.update(extra_env or {})
    subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "talk",
                    "-x", "120", "-y", "40", "bash --norc --noprofile"],
                   check=True, env=env, timeout=10)
    try:
        term.send(f"export PS1='{PROMPT} ' XDG_DATA_HOME={shlex.quote(str(tmp_path / 'data'))} "
                  f"XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'config'))}; unset NO_COLOR", "Enter")
        term.wait_for(lambda s: PROMPT in s, "the shell prompt", timeout=10)
        raise_process(int(term.run("display-message", "-p", "#{pid}").strip()), -10)  # the terminal itself
        # the shell, so the app it starts: the foreground app of a machine whose other work is
        # this suite's own batch of tests, not theirs to wait behind (below the user's hands)
        raise_process(int(term.run("display-message", "-p", "#{pane_pid}").strip()), -5)
        yield term
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


@contextlib.contextmanager
def short_dir() -> Iterator[Path]:
    """A folder with a short path, for paths the app prints on screen: a test's own
    ``tmp_path`` (longer still under xdist) would wrap inside the app's panes."""
    folder = Path(tempfile.mkdtemp(prefix="vc"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)

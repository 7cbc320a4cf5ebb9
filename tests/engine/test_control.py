"""The control socket and the writer lock (engine/control.py) on a real engine: decisions
through the socket take the engine's own path; requests that are not decisions, and peers
that are not the user, are refused; the lock admits one writer."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from sendguard.engine.answers import NotNow
from sendguard.engine.control import (
    ControlServer,
    WriterLock,
    request,
    socket_address,
)
from sendguard.engine.decider import Answer
from sendguard.engine.guard import Engine
from sendguard.store.journal import HoldRecord, State
from tests.engine.conftest import TLP_RED, Recorder, World, wait

NOBODY = 65534


@pytest.fixture
def served(
    world: World, running: Callable[..., tuple[Engine, object, Recorder]]
) -> Iterator[tuple[Engine, Recorder, ControlServer]]:
    engine, _decider, recorder = running()
    server = ControlServer(world.data_dir / "control" / "engine.sock", engine.decide, engine="test")
    server.start()
    yield engine, recorder, server
    server.close()


def test_a_decision_through_the_socket_is_the_engines(
    world: World, served: tuple[Engine, Recorder, ControlServer]
) -> None:
    engine, recorder, server = served
    (world.family / "plan.txt").write_bytes(TLP_RED)
    wait(lambda: ("held", "plan.txt") in recorder.events)
    [record] = engine.held_files()
    wait(lambda: (engine.journal.get(record.id) or record).verdict is not None)

    asked = {"op": "decide", "id": record.id, "share": True}
    refused = request(server.path, asked)
    assert refused["ok"] is False and refused["kind"] == "refused"
    assert "stays held" in refused["error"] and '"Family"' in refused["error"]

    done = request(server.path, asked | {"group_name": "family", "reason": "Mum asked"})
    assert done["ok"] is True, done
    assert done["target"] == str(world.family / "plan.txt") and done["decision"] == "share"
    assert (world.family / "plan.txt").read_bytes() == TLP_RED
    assert ("released", "plan.txt") in recorder.events
    journaled = engine.journal.get(record.id)
    assert journaled is not None and journaled.state is State.RELEASED
    assert (journaled.decided_via, journaled.justification) == ("command line", "Mum asked")

    again = request(server.path, asked | {"group_name": "family", "reason": "again"})
    assert again["kind"] == "refused" and "shared already" in again["error"]


def test_any_name_travels_whole(
    world: World, served: tuple[Engine, Recorder, ControlServer]
) -> None:
    engine, recorder, server = served
    name = "通知 «plan» \u202ecod.txt"  # CJK, quotes, a bidi override
    (world.family / name).write_bytes(TLP_RED)
    wait(lambda: ("held", name) in recorder.events)
    [record] = engine.held_files()
    done = request(server.path, {"op": "decide", "id": record.id, "share": False, "reason": "不"})
    assert done["ok"] is True and done["file"] == name, done
    assert (world.not_shared / "Family" / name).read_bytes() == TLP_RED
    journaled = engine.journal.get(record.id)
    assert journaled is not None and journaled.justification == "不"


def test_what_is_not_a_decision_is_refused_with_a_reason(
    served: tuple[Engine, Recorder, ControlServer],
) -> None:
    _engine, _recorder, server = served
    pong = request(server.path, {"op": "ping"})
    assert pong["ok"] is True and pong["protocol"] == 1 and pong["pid"] == os.getpid()
    for message, why in (
        ({"op": "format disk"}, "unknown op"),
        ({"op": "decide", "id": "1", "share": True}, '"id"'),
        ({"op": "decide", "id": True, "share": True}, '"id"'),
        ({"op": "decide", "id": 1, "share": "yes"}, '"share"'),
        ({"op": "decide", "id": 1, "share": True, "reason": 7}, '"reason"'),
    ):
        reply = request(server.path, message)
        assert (reply["ok"], reply["kind"]) == (False, "request"), reply
        assert why in reply["error"]
    unknown = request(server.path, {"op": "decide", "id": 4711, "share": False})
    assert unknown["kind"] == "refused" and unknown["error"] == "no held file #4711"
    with socket.socket(socket.AF_UNIX) as raw, socket_address(server.path) as address:
        raw.connect(address)
        raw.sendall(b"not json\n")
        assert b'"kind": "request"' in raw.makefile("rb").readline()


def test_a_stopping_engine_takes_no_more_decisions(
    served: tuple[Engine, Recorder, ControlServer],
) -> None:
    engine, _recorder, _server = served
    engine.stop()
    with pytest.raises(NotNow):
        engine.decide(Answer(1, share=False))


def test_the_socket_and_its_folder_are_private(
    served: tuple[Engine, Recorder, ControlServer],
) -> None:
    _engine, _recorder, server = served
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700
    server.close()
    assert not server.path.exists()


def test_closing_lets_go_of_a_silent_client_at_once(
    served: tuple[Engine, Recorder, ControlServer],
) -> None:
    _engine, _recorder, server = served
    with socket.socket(socket.AF_UNIX) as silent, socket_address(server.path) as address:
        silent.connect(address)
        assert request(server.path, {"op": "ping"})["ok"]  # the server is past accepting it
        started = time.monotonic()
        server.close()
        assert time.monotonic() - started < 5  # not the 10 s a decision under way may take
        assert silent.recv(1) == b""


def test_a_deep_data_folder_is_served_all_the_same(tmp_path: Path) -> None:
    """sun_path holds 108 bytes; a deeper socket is reached through its folder's descriptor."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the long-path route is Linux's /proc/self/fd")
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "control" / "engine.sock"
    server = ControlServer(deep, lambda answer: pytest.fail("no decision asked"), engine="deep")
    server.start()
    try:
        assert len(str(deep)) > 108
        assert request(deep, {"op": "ping"})["engine"] == "deep"
    finally:
        server.close()
    assert not deep.exists()


def test_the_writer_lock_admits_one_and_names_it(tmp_path: Path) -> None:
    first, second = WriterLock(tmp_path / "engine.lock"), WriterLock(tmp_path / "engine.lock")
    assert first.acquire("sendguard run --headless")
    assert not second.acquire("sendguard held share", wait=0.2)
    assert second.holder() == f"pid {os.getpid()}: sendguard run --headless"
    first.release()
    assert second.acquire("sendguard held share")
    second.release()


def _fork_as_nobody(work: Callable[[], None]) -> int:
    """Run `work` in a forked child that is the user nobody; the child's pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            work()
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    return pid


def _exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_only_the_user_the_engine_runs_as_is_answered() -> None:
    """The engine runs as nobody; root may reach its socket (root passes every permission),
    but the peer check (SO_PEERCRED) refuses it before reading a request."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to act as another user (as in CI)")
    folder = Path(tempfile.mkdtemp(prefix="sendguard-peer-"))
    os.chown(folder, NOBODY, NOBODY)
    path = folder / "control" / "engine.sock"
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()

    def serve() -> None:
        def decide(answer: Answer) -> Future[HoldRecord]:
            os._exit(3)  # a refused peer must never reach a decision

        server = ControlServer(path, decide, engine="nobody's")
        server.start()
        os.write(ready_w, b"!")
        os.read(done_r, 1)
        server.close()

    def ask_as_nobody() -> None:
        assert request(path, {"op": "ping"})["engine"] == "nobody's"

    server = _fork_as_nobody(serve)
    try:
        assert os.read(ready_r, 1) == b"!"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == NOBODY
        refused = request(path, {"op": "decide", "id": 1, "share": True})
        assert refused == {
            "ok": False,
            "kind": "forbidden",
            "error": "refused: uid 0 is not the user SendGuard runs as",
        }
        assert _exit_code(_fork_as_nobody(ask_as_nobody)) == 0
    finally:
        os.write(done_w, b"!")
        code = _exit_code(server)
        shutil.rmtree(folder, ignore_errors=True)
    assert code == 0

"""The asyncio side of the Locust user: one process per Locust worker that holds scenario
conversations on request (``python -m voicecli.cli.load_service SCENARIO [target options]``).

Locust runs its users as gevent greenlets; voicecli's sessions run on asyncio. Rather than
mixing the two loops in one process, each Locust worker starts this service once: it reads
one request per line on stdin (``{"id": N}``), runs a conversation of the scenario for each
(concurrently, through the same engine as ``voicecli test`` and ``voicecli load``), and
writes one JSON line per finished conversation on stdout (``{"id": N, "result": {...}}``,
the scenario result of the JSON report). The scenario's audio is prepared once. A bad
scenario or target ends the service at once with ``{"fatal": "..."}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from array import array
from pathlib import Path
from typing import Any

from voicecli.cli.common import setup_logging
from voicecli.cli.scenario import Endpoints, target_for
from voicecli.errors import VoicecliError
from voicecli.load.runner import LoadPlan, LoadRun
from voicecli.load.stats import percentiles
from voicecli.protocol.base import Adapter
from voicecli.scenario.loader import load
from voicecli.secrets import redact


def _write(data: dict[str, Any]) -> None:
    sys.stdout.write(redact(json.dumps(data, default=str)) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> int:
    try:
        file = load(Path(args.scenario))
        target = target_for(file, {"profile": args.profile, "url": args.url, "dialect": args.dialect,
                                   "agent": args.agent}, args.config)
    except VoicecliError as exc:
        _write({"fatal": str(exc)})
        return exc.exit_code
    async with contextlib.AsyncExitStack() as stack:
        endpoints = Endpoints(stack)

        async def adapter() -> Adapter:
            async with endpoints.lock:
                return await endpoints.adapter(target)

        run = LoadRun(file, adapter, LoadPlan(1, 1.0, 0.0), allow_insecure=args.allow_insecure)
        tasks: set[asyncio.Task[None]] = set()

        async def one(request_id: Any) -> None:
            lateness: array[float] = array("d")
            result = await run.conversation(lateness)
            _write({"id": request_id, "result": result.to_dict(),
                    "lateness_ms_p99": percentiles(lateness)["p99"]})

        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        _write({"ready": True})
        while line := await reader.readline():
            try:
                request = json.loads(line)
            except ValueError:
                continue
            task = asyncio.create_task(one(request.get("id")))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        for task in list(tasks):
            task.cancel()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voicecli-load-service")
    parser.add_argument("scenario")
    for name in ("profile", "url", "dialect", "agent", "config"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--allow-insecure", action="store_true")
    args = parser.parse_args(argv)
    setup_logging()
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())

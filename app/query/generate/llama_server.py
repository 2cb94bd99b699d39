"""Child process that runs llama.cpp's OpenAI-compatible server (xllamacpp) on loopback.

Started by :class:`app.query.generate.llamacpp.LlamaCppServer`, never by hand:
``python -m app.query.generate.llama_server --model FILE``. It prints one JSON line with the
listening address once the model is loaded, then serves until its stdin closes, so the server
goes away with the process that started it even when that process is killed.
The API key comes in the environment (GUIDEGROUND_LLAMACPP_KEY), not on the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="llama_server")
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=4096)
    args = ap.parse_args(argv)

    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = args.model
    p.hostnames = ["127.0.0.1"]  # loopback only
    p.port = 0  # any free port; the address is reported below
    p.n_ctx = args.ctx
    p.n_parallel = 1
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.endpoint_metrics = True
    key = os.environ.get("GUIDEGROUND_LLAMACPP_KEY", "")
    if key:
        p.api_keys = [key]
    server = xlc.Server(p)  # returns once the model is loaded and the socket listens
    sys.stdout.write(json.dumps({"address": server.listening_address}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # EOF: the parent closed the pipe or died
    del server
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A small OpenAI-compatible /v1/embeddings server for tests (not a generative model): deterministic
vectors from hashed character bigrams, so texts that share words are near, and each model name hashes
differently, so two models' vectors are told apart. It records every request and can fail on purpose."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

DIM = 64


def fake_vector(model: str, text: str) -> list[float]:
    v = np.zeros(DIM, dtype=np.float64)
    grams = [text[i : i + 2] for i in range(max(1, len(text) - 1))]
    for g in grams:
        h = hashlib.sha256(f"{model}\x1f{g}".encode()).digest()
        v[h[0] % DIM] += 1.0 if h[1] % 2 else -1.0
    n = np.linalg.norm(v)
    return (v / n if n else v).tolist()


@dataclass
class FakeEmbeddingServer:
    url: str = ""
    requests: list[dict] = field(default_factory=list)  # the JSON bodies received, in order
    fail_next: int = 0  # answer this many coming requests with 503
    lock: threading.Lock = field(default_factory=threading.Lock)

    def batch_sizes(self) -> list[int]:
        return [len(r["input"]) for r in self.requests]


@contextmanager
def fake_embedding_server() -> Iterator[FakeEmbeddingServer]:
    state = FakeEmbeddingServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
            with state.lock:
                state.requests.append(body)
                failing = state.fail_next > 0
                if failing:
                    state.fail_next -= 1
            if self.path.rstrip("/") != "/v1/embeddings":
                self._send(404, {"error": {"message": "not found"}})
            elif failing:
                self._send(503, {"error": {"message": "overloaded, try again"}})
            else:
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [{"object": "embedding", "index": i, "embedding": fake_vector(body["model"], t)}
                        for i, t in enumerate(texts)]
                self._send(200, {"object": "list", "data": data, "model": body["model"],
                                 "usage": {"prompt_tokens": 0, "total_tokens": 0}})

        def _send(self, status: int, payload: dict) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="fake-embeddings", daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

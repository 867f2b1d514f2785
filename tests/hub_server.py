"""A local stand-in for the Hugging Face hub's HTTP API (the three calls snapshot_download makes: revision
info, tree listing, file resolve), so the download path runs for real through huggingface_hub, offline.
It records every request, so a test can say which files were fetched."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

COMMIT = "1234567890abcdef1234567890abcdef12345678"


def serve(repo: str, files: dict[str, bytes]):
    """Serve ``files`` as repository ``repo`` at COMMIT; returns (server, base url, request log)."""
    log: list[tuple[str, str]] = []
    blobs = {n: hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest() for n, d in files.items()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code, body=b"", headers=None, head=False):
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _answer(self, head: bool):
            path = unquote(urlparse(self.path).path)
            log.append((self.command, path))
            if path.startswith(f"/api/models/{repo}/revision/"):
                info = {"id": repo, "sha": COMMIT, "siblings": [{"rfilename": n} for n in files]}
                return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"}, head)
            if path.startswith(f"/api/models/{repo}/tree/"):
                tree = [{"type": "file", "oid": blobs[n], "size": len(d), "path": n} for n, d in files.items()]
                return self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"}, head)
            prefix = f"/{repo}/resolve/"
            if path.startswith(prefix):
                name = path[len(prefix):].partition("/")[2]
                if name in files:
                    return self._send(200, files[name], {"X-Repo-Commit": COMMIT, "ETag": f'"{blobs[name]}"',
                                                         "Content-Type": "application/octet-stream"}, head)
            return self._send(404, b'{"error": "Repository not found"}',
                              {"X-Error-Code": "RepoNotFound", "Content-Type": "application/json"}, head)

        def do_GET(self):
            self._answer(False)

        def do_HEAD(self):
            self._answer(True)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", log

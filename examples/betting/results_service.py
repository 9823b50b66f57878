"""The demo's data source: a local HTTP service of match results (what a sports-data API would be).

GET /matches/<id> → {"match", "home", "away", "home_goals", "away_goals", "observed_at", "value"},
404 until the match has a result. `value` = home_goals * 1000 + away_goals is what an oracle node
reads (`{"value": int}`); the match-result app reads the whole report.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ResultsService:
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    def publish(
        self, match: str, home: str, away: str, home_goals: int, away_goals: int, at: int
    ) -> None:
        self.results[match] = {
            "match": match,
            "home": home,
            "away": away,
            "home_goals": home_goals,
            "away_goals": away_goals,
            "observed_at": at,
            "value": home_goals * 1000 + away_goals,
        }

    def url(self, match: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/matches/{match}"

    def start(self) -> ResultsService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                match = self.path.removeprefix("/matches/")
                found = service.results.get(match)
                body = json.dumps(found or {"error": f"no result for {match!r}"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

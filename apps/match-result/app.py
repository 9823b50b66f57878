"""match-result: turns a match report from a results service into an oracle value, following
iExec's app conventions, for the betting dApp's PoCo-fed oracle.

Input: the first input file (IEXEC_IN/IEXEC_INPUT_FILE_NAME_1), the results service's JSON for one
match: {"match": ..., "home_goals": H, "away_goals": A, "observed_at": T, ...}. Argument: the
oracle key, 0x + 64 hex digits.
Output: IEXEC_OUT/result.json (readable) and IEXEC_OUT/computed.json whose "callback-data" is
abi.encode(bytes32 key, int256 value, uint256 observedAt) with value = H * 1000 + A — what the hub
passes to the PocoOracle's receiveResult. Deterministic: replicated workers agree byte for byte.

Standard library only (the process sandbox runs `python -I -S app.py KEY`). Exit 1 on bad input.
"""

import json
import os
import sys
from pathlib import Path

GOALS_BASE = 1000


def word(value: int) -> bytes:
    """One ABI word: a 256-bit two's-complement big-endian integer."""
    return (value % (1 << 256)).to_bytes(32, "big")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].startswith("0x") or len(argv[0]) != 66:
        print("usage: app.py 0x<64 hex digits: the oracle key>", file=sys.stderr)
        return 1
    key = bytes.fromhex(argv[0][2:])
    name = os.environ.get("IEXEC_INPUT_FILE_NAME_1", "")
    if not name:
        print("no input file: pass the match's URL as an input file", file=sys.stderr)
        return 1
    report = json.loads((Path(os.environ["IEXEC_IN"]) / name).read_text())
    home, away = int(report["home_goals"]), int(report["away_goals"])
    if not (0 <= home < GOALS_BASE and 0 <= away < GOALS_BASE):
        print(f"implausible score {home}-{away}", file=sys.stderr)
        return 1
    value = home * GOALS_BASE + away
    callback = key + word(value) + word(int(report["observed_at"]))
    out = Path(os.environ["IEXEC_OUT"])
    summary = {"match": report.get("match"), "score": f"{home}-{away}", "value": value}
    (out / "result.json").write_text(json.dumps(summary, sort_keys=True) + "\n")
    (out / "computed.json").write_text(json.dumps({"callback-data": "0x" + callback.hex()}))
    print(f"{report.get('match')}: {home}-{away} → {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

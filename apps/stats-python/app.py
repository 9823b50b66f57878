"""stats: summary statistics of numbers, as a native Python app following iExec's conventions.

Numbers come from the arguments (each may hold several, separated by commas or spaces) and, when
IEXEC_DATASET_FILENAME is set, from that CSV file in IEXEC_IN (one or more comma-separated numbers
per line; blank lines and lines starting with # are skipped). Writes IEXEC_OUT/result.json,
deterministic JSON with sorted keys and floats rounded to 6 places:
    {"count": 3, "max": 3.0, "mean": 2.0, "median": 2.0, "min": 1.0, "sum": 6.0}
(statistics are null when there are no numbers) and IEXEC_OUT/computed.json naming it.

Standard library only: the process sandbox runs it as `python -I -S app.py ARGS`.
Exit codes: 0 success, 1 bad input, 3 --crash (for tests; nothing is written).
`--sleep SECONDS` waits before computing (for tests that stop a worker mid-task).
"""

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 1
EXIT_CRASH = 3
PLACES = 6


def parse_numbers(text: str, where: str) -> list[float]:
    numbers = []
    for token in text.replace(",", " ").split():
        try:
            number = float(token)
        except ValueError:
            raise ValueError(f"{where}: not a number: {token!r}") from None
        if not math.isfinite(number):  # NaN and infinities have no JSON form
            raise ValueError(f"{where}: not a finite number: {token!r}")
        numbers.append(number)
    return numbers


def read_dataset(path: Path) -> list[float]:
    numbers = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            numbers += parse_numbers(line, f"{path.name}:{line_number}")
    return numbers


def summarize(numbers: list[float]) -> dict[str, float | int | None]:
    if not numbers:
        return {"count": 0, "sum": 0.0, "mean": None, "median": None, "min": None, "max": None}
    total = math.fsum(numbers)  # exact, so the order of the inputs cannot change the result
    return {
        "count": len(numbers),
        "sum": round(total, PLACES),
        "mean": round(total / len(numbers), PLACES),
        "median": round(statistics.median(numbers), PLACES),
        "min": round(min(numbers), PLACES),
        "max": round(max(numbers), PLACES),
    }


def main(args: list[str]) -> int:
    if "--crash" in args:
        sys.stderr.write("crashing on purpose\n")
        return EXIT_CRASH
    if "--sleep" in args:
        at = args.index("--sleep")
        time.sleep(float(args[at + 1]))
        args = args[:at] + args[at + 2 :]
    in_dir = Path(os.environ.get("IEXEC_IN") or "/iexec_in")
    out_dir = Path(os.environ.get("IEXEC_OUT") or "/iexec_out")
    dataset = os.environ.get("IEXEC_DATASET_FILENAME", "")
    try:
        numbers = [n for i, arg in enumerate(args, 1) for n in parse_numbers(arg, f"argument {i}")]
        if dataset:
            numbers += read_dataset(in_dir / dataset)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"stats: {exc}\n")
        return EXIT_BAD_INPUT
    result = summarize(numbers)
    (out_dir / "result.json").write_text(json.dumps(result, sort_keys=True) + "\n", "utf-8")
    # The in-sandbox path, as in iExec: the worker maps /iexec_out to its output folder.
    computed = {"deterministic-output-path": "/iexec_out/result.json"}
    (out_dir / "computed.json").write_text(json.dumps(computed) + "\n", "utf-8")
    sys.stdout.write(f"stats: {result['count']} numbers, mean {result['mean']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

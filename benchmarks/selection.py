"""Time of the verifiable worker selection (issue 6, acceptance 4): AN numbering of a ledger order
plus the draw of n workers, for P = 10⁴ participants who all posted (|V| = P) and n = 100.

Participants are 20-byte addresses as lowercase 0x-hex strings; every run uses a fresh random
ledger order (made outside the timing). `select_workers` is timed end to end (sorting the
participants, AN, seed, draw) RUNS times and the median reported, wall clock and process CPU time
(the machine may be shared: the CPU time is what the computation itself costs). The breakdown times
the parts separately: AN, seed (keccak256 of AN's ~15 kB), draw (100 keccak256 steps). Informative
rows: half the participants posted (CN no longer 0) and 100 posted.

Baselines measured in the same run: `math.factorial(P)` (one big integer of AN's size, in C: the
floor) and the direct O(P²) evaluation of Table 1 (count smaller voters to the left pairwise, sum
i!·c_i and the falling factorials term by term) at P = 10³, against `an` at the same size.

Goal: ≤ 50 ms. Writes benchmarks/results/selection.json and a section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from _results import append_section, write_json
from pnyx.domain._hex import keccak
from pnyx.domain.groups import draw_group
from pnyx.domain.numbering import an
from pnyx.domain.selection import arrangement_seed, select_workers

PARTICIPANTS = 10_000
WORKERS = 100
RUNS = 9
GOAL_S = 0.050
BASELINE_PARTICIPANTS = 1_000


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def addresses(count: int) -> list[str]:
    return ["0x" + keccak(k.to_bytes(32, "big"))[12:].hex() for k in range(count)]


def direct_an(voters: list[str], participants: list[str]) -> int:
    """Table 1 evaluated directly, as written (all voters posted, so CN = 0)."""
    p, v = len(participants), len(voters)
    offset, falling = 0, 1
    for i in range(v):
        offset += falling
        falling *= p - i
    permutation, factorial = 0, 1
    for i in range(v):
        if i:
            factorial *= i
        permutation += factorial * sum(1 for k in range(i) if voters[k] < voters[i])
    return offset + permutation


def median_of(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def measure() -> dict[str, object]:
    rng = random.Random(6)
    participants = addresses(PARTICIPANTS)
    ordered = sorted(participants)
    total, numbering, seeding, drawing = [], [], [], []
    bits = 0
    for _ in range(RUNS):
        ledger = rng.sample(participants, PARTICIPANTS)
        total.append(timed(lambda: select_workers(participants, ledger, WORKERS)))  # noqa: B023
        number = an(ledger, ordered)
        bits = number.bit_length()
        seed = arrangement_seed(number)
        numbering.append(timed(lambda: an(ledger, ordered)))  # noqa: B023
        seeding.append(timed(lambda: arrangement_seed(number)))  # noqa: B023
        drawing.append(timed(lambda: draw_group(seed, PARTICIPANTS, WORKERS)))  # noqa: B023
    turnout = {}
    for voters in (PARTICIPANTS // 2, WORKERS):
        samples = []
        for _ in range(RUNS):
            ledger = rng.sample(participants, voters)
            samples.append(timed(lambda: select_workers(participants, ledger, WORKERS)))  # noqa: B023
        turnout[voters] = median_of(samples)
    factorial = median_of([timed(lambda: math.factorial(PARTICIPANTS)) for _ in range(RUNS)])

    small = sorted(addresses(BASELINE_PARTICIPANTS))
    small_ledger = rng.sample(small, BASELINE_PARTICIPANTS)
    assert direct_an(small_ledger, small) == an(small_ledger, small)
    direct = timed(lambda: direct_an(small_ledger, small))
    fast = median_of([timed(lambda: an(small_ledger, small)) for _ in range(RUNS)])

    seconds, cpu_seconds = median_of(total)
    return {
        "participants": PARTICIPANTS,
        "workers": WORKERS,
        "voters": PARTICIPANTS,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "runs": RUNS,
        "goal_seconds": GOAL_S,
        "goal_met": seconds <= GOAL_S,
        "an_bits": bits,
        "breakdown": {
            "numbering_seconds": median_of(numbering)[0],
            "seed_seconds": median_of(seeding)[0],
            "draw_seconds": median_of(drawing)[0],
        },
        "other_turnouts": [
            {"voters": v, "seconds": wall, "cpu_seconds": cpu} for v, (wall, cpu) in turnout.items()
        ],
        "baselines": {
            "factorial_seconds": factorial[0],
            "direct_table1_participants": BASELINE_PARTICIPANTS,
            "direct_table1_seconds": direct[0],
            "an_seconds_same_size": fast[0],
        },
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }


def ms(seconds: object) -> str:
    return f"{float(str(seconds)) * 1000:.1f} ms"


def report(console: Console, row: dict[str, object]) -> list[str]:
    breakdown = row["breakdown"]
    baselines = row["baselines"]
    assert isinstance(breakdown, dict) and isinstance(baselines, dict)
    verdict = "met" if row["goal_met"] else "MISSED"
    table = Table(title=f"Worker selection, P = {PARTICIPANTS:,}, n = {WORKERS} (median of {RUNS})")
    table.add_column("what")
    table.add_column("wall", justify="right")
    table.add_column("CPU", justify="right")
    table.add_column("note")
    table.add_row(
        "AN + selection, |V| = P", ms(row["seconds"]), ms(row["cpu_seconds"]),
        f"goal ≤ {ms(GOAL_S)}: {verdict}",
    )  # fmt: skip
    table.add_row(
        "  AN numbering", ms(breakdown["numbering_seconds"]), "", f"{row['an_bits']:,} bits"
    )
    table.add_row("  seed (keccak256)", ms(breakdown["seed_seconds"]), "", "")
    table.add_row("  draw of n workers", ms(breakdown["draw_seconds"]), "", "")
    others = row["other_turnouts"]
    assert isinstance(others, list)
    for other in others:
        table.add_row(f"AN + selection, |V| = {other['voters']:,}", ms(other["seconds"]),
                      ms(other["cpu_seconds"]), "")  # fmt: skip
    floor = float(baselines["factorial_seconds"])
    table.add_row(
        "baseline: math.factorial(P)", ms(floor), "",
        f"selection = {float(str(row['seconds'])) / floor:.1f}× this",
    )  # fmt: skip
    direct, fast = (
        float(baselines["direct_table1_seconds"]),
        float(baselines["an_seconds_same_size"]),
    )
    table.add_row(
        f"baseline: direct Table 1, P = {BASELINE_PARTICIPANTS:,}", ms(direct), "",
        f"an: {ms(fast)}, {direct / fast:.0f}× faster",
    )  # fmt: skip
    console.print(table)
    console.print(f"load average {row['load_average_1min']:.2f} on {row['cpus']} CPUs")
    return [
        "| what | wall | CPU |",
        "|---|---:|---:|",
        f"| AN + selection, P = {PARTICIPANTS:,} = \\|V\\|, n = {WORKERS} | {ms(row['seconds'])} "
        f"| {ms(row['cpu_seconds'])} |",
        f"| AN numbering | {ms(breakdown['numbering_seconds'])} | |",
        f"| seed + draw | {ms(breakdown['seed_seconds'] + breakdown['draw_seconds'])} | |",
        *(
            f"| AN + selection, \\|V\\| = {o['voters']:,} | {ms(o['seconds'])} "
            f"| {ms(o['cpu_seconds'])} |"
            for o in others
        ),
        "",
        f"- goal ≤ {ms(GOAL_S)}: {verdict}; median of {RUNS}; load average "
        f"{row['load_average_1min']:.2f} on {row['cpus']} CPUs",
        f"- baselines: math.factorial(P) {ms(floor)}; direct Table 1 at P = "
        f"{BASELINE_PARTICIPANTS:,} {ms(direct)} vs an {ms(fast)} ({direct / fast:.0f}×)",
    ]


def main() -> int:
    console = Console()
    console.print(
        f"[bold]bench-selection[/bold]: AN numbering + selection of {WORKERS} workers among "
        f"{PARTICIPANTS:,} participants…"
    )
    row = measure()
    lines = report(console, row)
    path = write_json("selection.json", row)
    append_section("bench-selection", lines)
    console.print(f"wrote {path}")
    return 0 if row["goal_met"] else 1


if __name__ == "__main__":
    sys.exit(main())

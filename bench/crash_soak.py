"""Crash soak: thousands of kill -9 trials against the hold area; prints the violations (0).

Each trial forks a child that arms one of SendGuard's named crash points and runs a random
script of holds, confirmed releases, returns and files of the user's own under the same
names, until it SIGKILLs itself at the point; sometimes recovery is killed too; then
recovery runs twice, the invariants are checked, the script is finished and they are checked
again (see ``tests/engine/crashworker.py``). Moves are made every way the code can make
them: one atomic rename, link-then-unlink, copy-verify-move (simulated EXDEV) and, when
there is one (``/dev/shm`` usually), across a real second file system.

A benchmark reports, it does not assert: the exit status is 0 unless the soak itself crashes.

Usage::

    python bench/crash_soak.py [--trials N] [--seed S] [--show N]

``--seed S --trials 1`` replays the trial a failing test printed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.engine.crashworker import (  # noqa: E402 - needs the project root on the path
    POINTS,
    TrialResult,
    find_other_filesystem,
    run_trial,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3000, help="how many (default 3000)")
    parser.add_argument("--seed", type=int, help="first trial's seed (default: random)")
    parser.add_argument("--show", type=int, default=10, help="violating trials to print")
    parser.add_argument("--workdir", type=Path, help="where trials run (default: a temp dir)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)

    with tempfile.TemporaryDirectory(prefix="crash-soak-", dir=args.workdir) as work:
        workdir = Path(work)
        other = find_other_filesystem(workdir)
        print(f"crash soak: {args.trials} trials from seed {seed}, in {workdir}")
        print(f"second file system: {other or 'none (cross-file-system moves simulated)'}")
        results: list[TrialResult] = []
        started = time.perf_counter()
        for index in range(args.trials):
            results.append(run_trial(seed + index, workdir, other))
            if (index + 1) % 500 == 0:
                elapsed = time.perf_counter() - started
                bad = sum(bool(r.violations) for r in results)
                print(f"  {index + 1} trials, {elapsed:.1f} s, {bad} with violations", flush=True)
        elapsed = time.perf_counter() - started
    report(results, elapsed, args.show)
    return 0


def report(results: list[TrialResult], elapsed: float, show: int) -> None:
    count = len(results)
    print(f"\n{count} trials in {elapsed:.1f} s: {count / elapsed:.1f} trials/s")
    per_point = Counter(r.spec.point for r in results)
    killed = Counter(r.spec.point for r in results if r.killed)
    print(f"\n{'crash point':<20}{'trials':>8}{'killed':>8}")
    for point in POINTS:
        print(f"{point:<20}{per_point[point]:>8}{killed[point]:>8}")
    print(f"{'total':<20}{count:>8}{sum(killed.values()):>8}")
    modes = Counter(r.spec.mode.value for r in results)
    print("\nmoves made by: " + ", ".join(f"{m} {n}" for m, n in sorted(modes.items())))
    recovery = Counter(r.spec.recovery_point for r in results if r.spec.recovery_point)
    recovery_killed = sum(r.recovery_killed for r in results)
    print(
        f"recovery crashed too: {recovery_killed} of {sum(recovery.values())} trials that"
        " armed a point in it"
    )
    bad = [r for r in results if r.violations]
    violations = sum(len(r.violations) for r in bad)
    print(f"\nviolations: {violations} (in {len(bad)} of {count} trials)")
    for result in bad[:show]:
        print()
        for line in result.violations[:5]:
            print(f"  {line}")
        print(f"  replay: python bench/crash_soak.py --seed {result.spec.seed} --trials 1")


if __name__ == "__main__":
    sys.exit(main())

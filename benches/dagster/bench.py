"""Times Dagster running the shapes weft's benches run, for a side-by-side comparison.

Run with the python that scripts/dagster-venv installs Dagster into and prints:

    python=$(scripts/dagster-venv)
    "$python" benches/dagster/bench.py CASE N SAMPLES

CASE is one of the keys of CASES below; N is the number of ops (cli-two-ops takes only
2); SAMPLES is how many times the run is repeated. Prints one JSON line on stdout:

    {"case", "n", "samples_s", "median_s", "events_per_op", "event_bytes_per_op", "dagster"}

Only the execution is timed: not the imports, the job's construction, nor making and
disposing of the instance. events_per_op and event_bytes_per_op are given for the cases
that run on a persistent (SQLite) instance, else null.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Point file descriptor 1 at stderr before Dagster is imported, keeping the real stdout
# for the one JSON line: Dagster's loggers, warnings and step worker processes (which
# inherit the descriptor) may all write to stdout.
json_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

import dagster  # noqa: E402
from dagster import DagsterInstance, build_reconstructable_job, execute_job  # noqa: E402
from dagster._serdes import serialize_value  # noqa: E402

import jobs  # noqa: E402  (beside this file, so on sys.path[0])

HERE = Path(__file__).resolve().parent

# Dagster's default console logger prints every event at DEBUG; weft prints none, and
# formatting thousands of log lines would be timed as orchestration. Events are still
# stored in the instance's event log at any console level.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def check_chain(n):
    def check(output_for_node):
        value = output_for_node(f"op{n - 1}")
        assert value == n, f"the chain's last op returned {value}, not {n}"

    return check


def check_fanout(n):
    def check(output_for_node):
        for i in range(1, n):
            value = output_for_node(f"op{i}")
            assert value == 2, f"the fan-out's op{i} returned {value}, not 2"

    return check


def check_bytes(n):
    def check(output_for_node):
        value = output_for_node(f"op{n - 1}")
        assert len(value) == jobs.BYTES_SIZE, f"the chain's last op returned {len(value)} bytes"

    return check


def stored_events(instance, run_id):
    """(entries, bytes) of the run's event log: each entry's size is that of
    serialize_value(entry), the string SqlEventLogStorage stores in the `event` column
    of its event_logs table."""
    entries = instance.all_logs(run_id)
    return len(entries), sum(len(serialize_value(e).encode()) for e in entries)


# Each of the following takes what one case runs and returns a function that runs one
# sample and returns (seconds, None or (event log entries, their bytes)). A job is built
# once per case, before any sample, and each sample runs that same definition.


def in_process(job_def, check):
    """execute_in_process on an ephemeral instance (in-memory storage), as
    execute_in_process makes by default; made here so that its making is not timed."""

    def sample():
        with DagsterInstance.ephemeral() as instance:
            start = time.perf_counter()
            result = job_def.execute_in_process(run_config=QUIET, instance=instance)
            elapsed = time.perf_counter() - start
            assert result.success, "the run failed"
            check(result.output_for_node)
        return elapsed, None

    return sample


def persistent(job_def, check):
    """execute_in_process on a fresh instance in a new temporary directory: runs and event
    logs go to SQLite files there, as they do in a DAGSTER_HOME with no dagster.yaml."""

    def sample():
        with tempfile.TemporaryDirectory() as home, DagsterInstance.local_temp(home) as instance:
            start = time.perf_counter()
            result = job_def.execute_in_process(run_config=QUIET, instance=instance)
            elapsed = time.perf_counter() - start
            assert result.success, "the run failed"
            check(result.output_for_node)
            return elapsed, stored_events(instance, result.run_id)

    return sample


def multiprocess(n):
    """execute_job of chain_job(n) with Dagster's default multiprocess executor, on a
    fresh instance as in persistent(): each step runs in a new process, which rebuilds
    the job by calling jobs.chain_job(n), and values pass between steps through the
    default fs_io_manager in the instance's directory."""
    recon = build_reconstructable_job(
        "jobs", "chain_job", reconstructable_args=(n,), reconstructor_working_directory=str(HERE)
    )
    check = check_chain(n)

    def sample():
        with tempfile.TemporaryDirectory() as home, DagsterInstance.local_temp(home) as instance:
            start = time.perf_counter()
            # execute_job returns once the run is over; the `with` is what lets
            # output_for_node load outputs through the io manager.
            with execute_job(recon, instance=instance, run_config=QUIET) as result:
                elapsed = time.perf_counter() - start
                assert result.success, "the run failed"
                check(result.output_for_node)
                return elapsed, stored_events(instance, result.run_id)

    return sample


def cli(n):
    """The wall time of a whole `dagster job execute` process, from its start through
    loading jobs.py to its exit, in a fresh DAGSTER_HOME with no dagster.yaml (the
    default configuration, with its console logging)."""
    if n != 2:
        sys.exit(f"cli-two-ops runs the two ops of jobs.two_ops: N must be 2, not {n}")
    dagster_cli = Path(sys.executable).parent / "dagster"
    command = [str(dagster_cli), "job", "execute", "-f", str(HERE / "jobs.py"), "-j", "two_ops"]

    def sample():
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            proc = subprocess.run(command, env={**os.environ, "DAGSTER_HOME": home}, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
        assert proc.returncode == 0, f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        return elapsed, None

    return sample


CASES = {
    "chain-inprocess": lambda n: in_process(jobs.chain_job(n), check_chain(n)),
    "fanout-inprocess": lambda n: in_process(jobs.fanout_job(n), check_fanout(n)),
    "chain-persistent": lambda n: persistent(jobs.chain_job(n), check_chain(n)),
    "fanout-persistent": lambda n: persistent(jobs.fanout_job(n), check_fanout(n)),
    "chain-multiprocess": multiprocess,
    "bytes-chain-inprocess": lambda n: in_process(jobs.bytes_chain_job(n, persist=False), check_bytes(n)),
    "bytes-chain-persistent": lambda n: persistent(jobs.bytes_chain_job(n, persist=True), check_bytes(n)),
    "cli-two-ops": cli,
}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} CASE N SAMPLES, CASE one of: {' '.join(CASES)}")
    case, n, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if n < 1 or samples < 1:
        sys.exit("N and SAMPLES must be at least 1")
    sample = CASES[case](n)
    results = [sample() for _ in range(samples)]
    seconds = [elapsed for elapsed, _ in results]
    events = [stored for _, stored in results if stored is not None]
    # The event log is the same size from one sample to the next, give or take the
    # digits of timestamps, so the figures are means over the samples.
    events_per_op = statistics.mean(count for count, _ in events) / n if events else None
    bytes_per_op = statistics.mean(size for _, size in events) / n if events else None
    line = {
        "case": case,
        "n": n,
        "samples_s": seconds,
        "median_s": statistics.median(seconds),
        "events_per_op": events_per_op,
        "event_bytes_per_op": bytes_per_op,
        "dagster": dagster.__version__,
    }
    print(json.dumps(line), file=json_out, flush=True)


if __name__ == "__main__":
    main()

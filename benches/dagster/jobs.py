"""The Dagster jobs bench.py times, the counterparts of weft's bench manifests.

A module of its own, apart from bench.py, because Dagster loads jobs from it by name in
other processes: the multiprocess executor's step workers rebuild a job from
`chain_job(n)` (see bench.py's `build_reconstructable_job`), and `dagster job execute -f
jobs.py -j two_ops` loads `two_ops`.
"""

import os

from dagster import JobDefinition, fs_io_manager, job, op

# 10 MiB, the size of the values the bytes cases pass from op to op.
BYTES_SIZE = 10 * 2**20


# Ops are left untyped, so Dagster's type checks on their inputs and outputs are the
# trivial ones for Any: what is measured is the orchestration, not the checks.
@op
def one():
    return 1


@op
def inc(x):
    return x + 1


def chain_job(n: int) -> JobDefinition:
    """op0 returns 1 and op_i returns op_{i-1}'s value + 1, so op_{n-1} returns n."""

    # Every node is one of the two ops under its own alias, as weft's steps are all one
    # solid under their own names.
    @job(name=f"chain_{n}")
    def chain():
        x = one.alias("op0")()
        for i in range(1, n):
            x = inc.alias(f"op{i}")(x)

    return chain


def fanout_job(n: int) -> JobDefinition:
    """op0 returns 1 and op1..op_{n-1} each return op0's value + 1."""

    @job(name=f"fanout_{n}")
    def fanout():
        x = one.alias("op0")()
        for i in range(1, n):
            inc.alias(f"op{i}")(x)

    return fanout


def bytes_chain_job(n: int, persist: bool) -> JobDefinition:
    """A chain of n ops, each returning a new 10 MiB copy of its input.

    With persist, values go through fs_io_manager, which pickles each one to a file
    under the instance's storage directory, as weft persists every output; else through
    the in-process default, mem_io_manager, which keeps them in memory.
    """
    # Made here, once, so the timed run does not include drawing 10 MiB of randomness.
    payload = os.urandom(BYTES_SIZE)

    # `bytes(x)` of a bytes object is that same object, not a copy; going through a
    # memoryview makes a new 10 MiB value from the old one's buffer.
    @op(name="first")
    def first():
        return bytes(memoryview(payload))

    @op(name="copy")
    def copy(x):
        return bytes(memoryview(x))

    resource_defs = {"io_manager": fs_io_manager} if persist else {}

    @job(name=f"bytes_chain_{n}", resource_defs=resource_defs)
    def bytes_chain():
        x = first.alias("op0")()
        for i in range(1, n):
            x = copy.alias(f"op{i}")(x)

    return bytes_chain


@job
def two_ops():
    inc.alias("b")(one.alias("a")())

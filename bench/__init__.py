"""Benchmark of the print path: confirm → ``new_order`` latency, throughput, idle agents, memory.

Run ``python -m bench`` (``--quick`` for a short run). Every project figure is printed beside a
bare baseline (``bench.baseline``: asyncio ``websockets`` + one SQLite file) measured in the same
run with the same simulated agents and payload size, and as a ratio to it.
"""

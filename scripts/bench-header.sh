#!/usr/bin/env bash
# Prints the head of docs/benchmarks.md: when and on what the run was made.
set -euo pipefail
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
cat <<HEAD
# Benchmarks

Latest \`make bench\` run: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($cpu), $mem, $(go version | cut -d' ' -f3),
PostgreSQL and Redis on the same machine. Every figure is paired with a baseline measured in the
same run: the machine is shared and noisy, so ratios are what compare across runs.

HEAD

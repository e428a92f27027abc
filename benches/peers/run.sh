#!/usr/bin/env bash
# Peer benchmark: our client, b24pysdk, fast_bitrix24 and the floor, on the same sandbox and operations.
#
#   benches/peers/run.sh [RUNS]        (default 3)
#
# Builds the release binary, makes a Python virtualenv with the pinned SDKs (benches/peers/.venv, or the one
# in $PEERS_VENV), then runs RUNS rounds; each round runs every scenario once for each client in turn (ours,
# b24pysdk, fast_bitrix24, the floor), each scenario against a fresh sandbox process, so slow drift in the
# machine's load falls on all clients alike. Prints the comparison of the medians. Results go to $PEERS_OUT
# (default: a new temporary directory) as JSON, one file per client and round.
set -euo pipefail

runs="${1:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${PEERS_VENV:-$here/.venv}"
out="${PEERS_OUT:-$(mktemp -d)}"
mkdir -p "$out"

cd "$repo"
cargo build --release --bin b24-calllist
cargo bench --bench peers_ours --no-run
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
py="$venv/bin/python"
version() { "$py" -c "from importlib.metadata import version; print(version('$1'))"; }

{
    echo "== machine and versions"
    echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); RAM $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "$(rustc --version); $("$py" --version); b24pysdk $(version b24pysdk); fast_bitrix24 $(version fast_bitrix24)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >&2

for round in $(seq 1 "$runs"); do
    echo "== round $round of $runs" >&2
    cargo bench --quiet --bench peers_ours -- --runs 1 --round "$round" --json "$out/ours-$round.json" >/dev/null
    "$py" "$here/b24pysdk_bench.py" --runs 1 --round "$round" --out "$out/b24pysdk-$round.json" >/dev/null
    "$py" "$here/fast_bitrix24_bench.py" --runs 1 --round "$round" --out "$out/fast_bitrix24-$round.json" >/dev/null
    "$py" "$here/floor.py" --runs 1 --round "$round" --out "$out/floor-$round.json" >/dev/null
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "Results in $out ($runs rounds; medians below)"
echo
"$py" "$here/table.py" "$out"/*.json

#!/bin/bash
# Runs the curl walkthrough of README.md verbatim: every ```sh
# block (not the ```sh setup block, whose variables this script sets for a
# daemon it starts on a free port) is executed in order, and the answers are
# checked for what the text says they show.
#   walkthrough.sh README.md      (SIBYLD names the binary)
set -u
doc=${1:?usage: walkthrough.sh README.md}
: "${SIBYLD:?SIBYLD must name the sibyld binary}"

dir=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "walkthrough: FAIL: $*" >&2
	exit 1
}

# Start sibyld on a free port with a generated admin key, as a new user does.
"$SIBYLD" --listen 127.0.0.1:0 --db "$dir/sibyl.db" >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 200); do
	grep -q "listening on" "$dir/out" 2>/dev/null && break
	sleep 0.1
done
line=$(grep -m1 "listening on" "$dir/out") || fail "no ready line; stderr: $(cat "$dir/err")"
SIBYL=http://${line##*listening on }
[ -s "$dir/sibyl.db.admin-key" ] || fail "no generated admin key next to the database"
KEY=$(cat "$dir/sibyl.db.admin-key")
export SIBYL KEY

# The ```sh blocks, in order, each into its own file.
awk -v dir="$dir" '
	/^```sh$/ { n++; f = sprintf("%s/block%02d.sh", dir, n); inblock = 1; next }
	/^```/ { inblock = 0; next }
	inblock { print > f }
' "$doc"
blocks=("$dir"/block*.sh)
[ "${#blocks[@]}" -eq 7 ] || fail "expected 7 command blocks in $doc, found ${#blocks[@]}"

i=0
for b in "${blocks[@]}"; do
	i=$((i + 1))
	out=$(cd "$dir" && bash -eu "$b" 2>&1) || fail "block $i exited non-zero: $out"
	echo "block $i: $out" | head -c 400
	echo
	case $i in
	1) expect='"name":"owners/demo"' ;;
	2) expect='"name":"owners/demo/studies/mnist-lr"' ;;
	3) expect='"name":"owners/demo/studies/mnist-lr/trials/1"' ;;
	4) expect='"stepCount":"100"' ;;
	5) expect='"state":"SUCCEEDED"' ;;
	6) expect='"optimalTrials":[{"name":"owners/demo/studies/mnist-lr/trials/1"' ;;
	7) expect='{"error":{"code":404,"message":"trial owners/demo/studies/mnist-lr/trials/99 not found","status":"NOT_FOUND"}}' ;;
	esac
	case $out in
	*"$expect"*) ;;
	*) fail "block $i: the answer does not contain $expect" ;;
	esac
done
case $(cat "$dir/err") in
*AddressSanitizer* | *"runtime error:"*) fail "sanitizer report: $(cat "$dir/err")" ;;
esac
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || fail "sibyld exited with $rc"
echo "walkthrough: ok (${#blocks[@]} commands)"

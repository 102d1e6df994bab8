#!/bin/bash
# Runs the command examples of a document against a fresh daemon, as a
# reader would type them: every ```sh block, in order, in one shell (so a
# variable set by one block is there for the next), with set -e. The
# ```sh setup block is not run: this script sets what it would (SIBYL,
# ADMIN, auth_admin, SIBYL_URL, SIBYL_KEY) for a daemon it starts on a free
# port. A line <!-- expect: TEXT --> after a block makes its output contain
# TEXT; without one, no answer of the block may be an error envelope.
# SIBYL_DOC_FILES (colon-separated paths) are copied into the directory the
# blocks run in, as a reader has them at hand (a training script).
# Blocks shown as ```console are for reading only and are not run.
#   examples.sh DOC.md     (SIBYLD and SIBYL name the binaries)
set -u
doc=${1:?usage: examples.sh DOC.md}
: "${SIBYLD:?SIBYLD must name the sibyld binary}"
: "${SIBYL:?SIBYL must name the sibyl binary}"

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
	echo "examples($doc): FAIL: $*" >&2
	exit 1
}

mkdir "$dir/bin" "$dir/work"
IFS=: read -ra doc_files <<<"${SIBYL_DOC_FILES:-}"
for f in "${doc_files[@]}"; do
	cp "$f" "$dir/work/" || fail "cannot copy $f"
done
ln -s "$(realpath "$SIBYLD")" "$dir/bin/sibyld"
ln -s "$(realpath "$SIBYL")" "$dir/bin/sibyl"
"$SIBYLD" --listen 127.0.0.1:0 --db "$dir/work/sibyl.db" >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 200); do
	grep -q "listening on" "$dir/out" 2>/dev/null && break
	sleep 0.1
done
line=$(grep -m1 "listening on" "$dir/out") || fail "no ready line; stderr: $(cat "$dir/err")"
url=http://${line##*listening on }

# Blocks into files; the expectation of block N into expectN.
awk -v dir="$dir" '
	/^```sh$/ { n++; f = sprintf("%s/block%02d.sh", dir, n); inblock = 1; printf "" > f; next }
	/^```/ { inblock = 0; next }
	inblock { print > f; next }
	/^<!-- expect: .* -->$/ && n > 0 {
		t = $0; sub(/^<!-- expect: /, "", t); sub(/ -->$/, "", t)
		print t > sprintf("%s/expect%02d", dir, n)
	}
' "$doc"
blocks=("$dir"/block*.sh)
[ -e "${blocks[0]}" ] || fail "no \`\`\`sh block in $doc"

# One shell runs them all; a marker line separates the blocks' outputs.
{
	echo "set -eu"
	echo "export PATH=\"$dir/bin:\$PATH\" SIBYL=$url SIBYL_URL=$url"
	echo "export ADMIN=\"\$(cat sibyl.db.admin-key)\""
	echo "export SIBYL_KEY=\"\$ADMIN\" auth_admin=\"Authorization: Bearer \$ADMIN\""
	for b in "${blocks[@]}"; do
		echo "echo @@@$(basename "$b" .sh)"
		cat "$b"
		echo
	done
	echo "echo @@@end"
} >"$dir/all.sh"
(cd "$dir/work" && bash "$dir/all.sh" >"$dir/all.out" 2>&1)
rc=$?
cat "$dir/all.out"
grep -q '^@@@end$' "$dir/all.out" ||
	fail "a block failed (exit $rc); the last one started is $(grep "^@@@block" "$dir/all.out" | tail -1)"
for b in "${blocks[@]}"; do
	name=$(basename "$b" .sh)
	n=${name#block}
	out=$(awk -v m="@@@$name" '$0 == m { on = 1; next } /^@@@/ { on = 0 } on' "$dir/all.out")
	if [ -f "$dir/expect$n" ]; then
		want=$(cat "$dir/expect$n")
		case $out in
		*"$want"*) ;;
		*) fail "$name: the output does not contain $want" ;;
		esac
	else
		case $out in
		*'{"error":'*) fail "$name answered an error: $out" ;;
		esac
	fi
done
case $(cat "$dir/err") in
*AddressSanitizer* | *"runtime error:"*) fail "sanitizer report: $(cat "$dir/err")" ;;
esac
echo "examples($doc): ok (${#blocks[@]} blocks)"

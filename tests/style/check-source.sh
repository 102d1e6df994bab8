#!/bin/sh
# Source checks that CI makes: clang-format clean, no banned calls
# (STYLE.md: sprintf strcpy strcat atoi atof strtok gets), no exit() in
# library code, files small enough to read in one sitting.
set -u
cd "$1" || exit 1
fail=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if command -v clang-format >/dev/null 2>&1; then
	if ! clang-format --dry-run --Werror $files 2>/tmp/sibyl-format.$$; then
		echo "clang-format: these files need formatting:"
		grep -o '^[^:]*\.[ch]' /tmp/sibyl-format.$$ | sort -u
		fail=1
	fi
	rm -f /tmp/sibyl-format.$$
else
	echo "clang-format not installed: format check skipped"
fi
banned=$(grep -nE '\b(sprintf|strcpy|strcat|atoi|atof|strtok|gets)[[:space:]]*\(' $files | grep -v '^tests/style/')
if [ -n "$banned" ]; then
	echo "banned calls (STYLE.md):"
	echo "$banned"
	fail=1
fi
libexit=$(grep -nE '\bexit[[:space:]]*\(' $(echo "$files" | tr ' ' '\n' | grep -E '^(server/designer|client/lib)/') 2>/dev/null)
if [ -n "$libexit" ]; then
	echo "exit() in library code:"
	echo "$libexit"
	fail=1
fi
for f in $files; do
	n=$(wc -l <"$f")
	if [ "$n" -gt 900 ]; then
		echo "$f has $n lines (> 900): split it by responsibility"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "source checks: ok"
exit "$fail"

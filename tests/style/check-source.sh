#!/bin/sh
# Source checks that CI makes: clang-format clean, no banned calls
# (the style rules: sprintf strcpy strcat atoi atof strtok gets), no exit()
# in library code, files small enough to read in one sitting, every
# repository path that a comment or document cites exists, and no absolute
# path of a machine's home or work directory.
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
	echo "banned calls (the style rules):"
	echo "$banned"
	fail=1
fi
libexit=$(grep -nE '\bexit[[:space:]]*\(' $(echo "$files" | tr ' ' '\n' | grep -E '^(server/[a-z]+/|client/lib/)') 2>/dev/null)
if [ -n "$libexit" ]; then
	echo "exit() in library code:"
	echo "$libexit"
	fail=1
fi
# The api and http layers reach the store only through the service
# (docs/architecture.md): no store_ function call there (comment lines
# aside).
storecalls=$(grep -nE '(^|[^A-Za-z0-9_])store_[a-z0-9_]+[[:space:]]*\(' \
	$(echo "$files" | tr ' ' '\n' | grep -E '^server/(api|http)/') /dev/null |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*|//)')
if [ -n "$storecalls" ]; then
	echo "store_ calls in server/api or server/http (go through the service):"
	echo "$storecalls"
	fail=1
fi
for f in $files; do
	n=$(wc -l <"$f")
	if [ "$n" -gt 900 ]; then
		echo "$f has $n lines (> 900): split it by responsibility"
		fail=1
	fi
done
# A cited path that starts at a top-level directory (server/..., docs/...)
# must exist: a comment or document naming a file that was moved or never
# written misleads the reader. Placeholders are spelt NNNN.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	top='(server|client|tests|docs|bench|include|migrations|scripts|tools|docker)'
	ext='(c|h|md|py|sh|sql|mjs|js|json|html|css)'
	cited=$(git grep -noE "(^|[^A-Za-z0-9_./\$%{}-])$top/[A-Za-z0-9_./-]*[A-Za-z0-9_]\.$ext\b" \
		-- '*.c' '*.h' '*.md' '*.py' '*.sh' '*.mjs' '*.sql' '*meson.build' |
		while IFS=: read -r f n m; do
			p=$(printf '%s' "$m" | sed -E 's#^[^a-z]##')
			case $p in *NNNN*) continue ;; esac
			[ -e "$p" ] || echo "$f:$n: $p"
		done)
	if [ -n "$cited" ]; then
		echo "cited paths that do not exist in the repository:"
		echo "$cited"
		fail=1
	fi
	abs=$(git grep -nE '(^|[^A-Za-z0-9_$}.-])/(work|home|root|Users)/' -- . ':!tests/style/')
	if [ -n "$abs" ]; then
		echo "absolute paths of a machine (use a path in the repository):"
		echo "$abs"
		fail=1
	fi
fi
[ "$fail" -eq 0 ] && echo "source checks: ok"
exit "$fail"

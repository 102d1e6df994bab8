#!/bin/sh
# A small "training" program for the `sibyl run` tests. It reads x from
# SIBYL_PARAM_X (and checks that the {x} placeholder in $2 matches it), then
# behaves as MODE ($1) says:
#   ok      three metric lines `sibyl: loss=... step=N`, loss = (x-0.3)^2 + 1/N; exit 0
#   json    the same as JSON objects {"loss": ..., "step": N}
#   fail    one metric line, then exit 3
#   silent  no metric line, exit 0
#   signal  one metric line, then kill itself with SIGKILL
#   steps   five lines with loss = x, exit 0 (to build a median for early stopping)
#   long    up to 200 lines with loss = x, 0.05 s apart (early stopping cuts it)
#   mixed   lines that are not measurements (an unknown metric, a malformed
#           line, a JSON log line), then one good line; exit 0
#   jsonkey two JSON metric lines with a misspelt key, one whose value is a
#           string, then one good line; exit 0
#   barrier waits until $3 holds 4 files (one per concurrent trial), then as ok
#   pidfile writes its pid to $3/pid.$SIBYL_TRIAL_ID, then as long
set -eu
mode=$1
x=${SIBYL_PARAM_X:?SIBYL_PARAM_X is not set}
if [ "${2:-}" != "$x" ]; then
	echo "placeholder {x} gave '${2:-}', environment gave '$x'" >&2
	exit 9
fi
loss() { awk -v x="$x" -v n="$1" 'BEGIN { printf "%.10g", (x - 0.3) * (x - 0.3) + 1 / n }'; }
echo "training with x=$x trial=${SIBYL_TRIAL_ID:?}"
case $mode in
ok)
	for n in 1 2 3; do echo "sibyl: loss=$(loss $n) step=$n"; done ;;
json)
	for n in 1 2 3; do echo "{\"loss\": $(loss $n), \"step\": $n, \"note\": \"json\"}"; done ;;
fail)
	echo "sibyl: loss=$(loss 1) step=1"
	exit 3 ;;
silent)
	echo "no metrics here" ;;
signal)
	echo "sibyl: loss=$(loss 1) step=1"
	kill -9 $$ ;;
mixed)
	echo "sibyl: accuracy=0.5"
	echo "sibyl: loss"
	echo '{"msg": "epoch done", "lr": 0.1}'
	echo "sibyl: loss=$x step=7" ;;
jsonkey)
	echo '{"los": 0.5, "step": 1}'
	echo '{"los": 0.25, "step": 2}'
	echo '{"loss": "high", "step": 2}'
	echo "sibyl: loss=$x step=3" ;;
steps)
	for n in 1 2 3 4 5; do echo "sibyl: loss=$x step=$n"; done ;;
long|pidfile)
	if [ "$mode" = pidfile ]; then echo $$ > "$3/pid.$SIBYL_TRIAL_ID"; fi
	n=1
	while [ $n -le 200 ]; do
		echo "sibyl: loss=$x step=$n"
		sleep 0.05
		n=$((n + 1))
	done ;;
barrier)
	touch "$3/trial.$SIBYL_TRIAL_ID"
	i=0
	while [ "$(ls "$3" | wc -l)" -lt 4 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(ls "$3" | wc -l)" -ge 4 ] || { echo "not 4 concurrent trials" >&2; exit 4; }
	for n in 1 2 3; do echo "sibyl: loss=$(loss $n) step=$n"; done ;;
*)
	echo "unknown mode $mode" >&2
	exit 2 ;;
esac

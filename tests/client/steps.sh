#!/bin/sh
# A "training" program for the restart and resume tests of `sibyl run`
# (tests/client/test-restart.c). It prints metric lines without a step, so
# `sibyl run` numbers them. MODE ($1):
#   gate DIR  one line (loss=0.5), then waits (up to 60 s) for the file
#             DIR/go, then a second line (loss=0.25); exit 0
#   hold N    N lines, then sleeps (the test stops the worker)
#   more N    says where it starts (SIBYL_STEP_START, SIBYL_LAST_STEP),
#             then N lines; exit 0
set -eu
mode=$1
case $mode in
gate)
	echo "sibyl: loss=0.5"
	i=0
	while [ ! -e "$2/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	echo "sibyl: loss=0.25" ;;
hold)
	n=1
	while [ $n -le "$2" ]; do echo "sibyl: loss=0.$n"; n=$((n + 1)); done
	sleep 60 ;;
more)
	echo "start=${SIBYL_STEP_START:-unset} last=${SIBYL_LAST_STEP:-unset}"
	n=1
	while [ $n -le "$2" ]; do echo "sibyl: loss=0.0$n"; n=$((n + 1)); done ;;
*)
	echo "unknown mode $mode" >&2
	exit 2 ;;
esac

#!/usr/bin/env bash
# `make run`'s supervisor. Each argument is "name=command": every command starts in its own
# process group; Ctrl-C (or any one of them exiting) stops them all, waits for each, and exits
# cleanly, so the terminal shows no "Terminated" or make's "wait: No child processes".
set -uo pipefail

pids=()
names=()
stopped=0

stop() {
	[[ $stopped == 1 ]] && return
	stopped=1
	trap '' INT TERM
	for pid in "${pids[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	echo "MediTrack stopped (${names[*]})."
}

trap 'stop; exit 0' INT TERM

for spec in "$@"; do
	names+=("${spec%%=*}")
	setsid bash -c "exec ${spec#*=}" &
	pids+=("$!")
done

wait -n
status=$?
echo "A MediTrack process exited (status $status); stopping the others."
stop
exit "$status"

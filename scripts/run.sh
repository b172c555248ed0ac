#!/usr/bin/env bash
# `make run`'s supervisor. Each argument is "name=command": every command starts in its own
# process group; Ctrl-C (or any one of them exiting) stops them all, waits for each, and exits
# cleanly, so the terminal shows no "Terminated" or make's "wait: No child processes".
# With READY_PORT set, READY_MESSAGE is printed once something listens on 127.0.0.1:READY_PORT
# (the web server is up), not before: the banner's URL answers when it appears.
set -uo pipefail

pids=()
names=()
stopped=0
announcer=

stop() {
	[[ $stopped == 1 ]] && return
	stopped=1
	trap '' INT TERM
	[[ -n $announcer ]] && kill "$announcer" 2>/dev/null
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

announce() {
	# Bash's /dev/tcp: no curl or Python needed to see the port open.
	until (exec 3<>"/dev/tcp/127.0.0.1/$READY_PORT") 2>/dev/null; do
		sleep 0.2
	done
	echo "$READY_MESSAGE"
}
if [[ -n ${READY_PORT:-} ]]; then
	announce &
	announcer=$!
fi

wait -n "${pids[@]}"
status=$?
echo "A MediTrack process exited (status $status); stopping the others."
stop
exit "$status"

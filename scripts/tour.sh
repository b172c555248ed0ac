#!/usr/bin/env bash
# The README's API tour, as a script that runs against `make run` (start it first, in another
# terminal). Usage: scripts/tour.sh [BASE_URL]   (or BASE_URL=…; default http://127.0.0.1:8000)
# It registers a patient and a doctor (new names each run), verifies the doctor with
# `manage.py verify_doctor` (same environment as `make run`), and walks the main endpoints.
# Registration is rate-limited per address (RATELIMIT_REGISTER, 5/h): about two runs an hour.
set -euo pipefail
cd "$(dirname "$0")/.."

B=${1:-${BASE_URL:-http://127.0.0.1:8000}}
B=${B%/}
PY=${PYTHON:-.venv/bin/python}
RUN=$(date +%s)$$
PATIENT=ana$RUN
DOCTOR=drlee$RUN
PASSWORD=correct-Horse-battery-42
ZONE=Europe/Lisbon # the patient's time zone: "today" for their symptoms and mood is theirs, not this machine's
JSON='Content-Type: application/json'

step() { printf '\n== %s\n' "$*"; }
# call METHOD PATH [BODY]: prints the body; fails (with the answer) unless the status is 2xx.
call() {
	local method=$1 path=$2 body=${3:-} out status
	out=$(mktemp)
	status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$B$path" -H "$JSON" \
		${ACCESS:+-H "Authorization: Bearer $ACCESS"} ${body:+--data "$body"})
	if [[ $status != 2* ]]; then
		echo "$method $path -> $status: $(head -c 500 "$out")" >&2
		rm -f "$out"
		return 1
	fi
	cat "$out"
	rm -f "$out"
}
field() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }
# day N: the patient's local date N days from today (a machine east of Lisbon is a day ahead at night).
day() {
	"$PY" -c 'import datetime,sys,zoneinfo; print(datetime.datetime.now(zoneinfo.ZoneInfo(sys.argv[2])).date() + datetime.timedelta(days=int(sys.argv[1])))' "$1" "$ZONE"
}

step "Health: database, cache, broker"
call GET /api/health/

step "Register a patient and a doctor (doctors start unverified)"
call POST /api/auth/register/ "{\"username\":\"$PATIENT\",\"email\":\"$PATIENT@example.com\",\"password\":\"$PASSWORD\",\"timezone\":\"$ZONE\"}"
echo
call POST /api/auth/register/ "{\"username\":\"$DOCTOR\",\"email\":\"$DOCTOR@example.com\",\"password\":\"$PASSWORD\",\"role\":\"doctor\"}"
echo

step "An admin verifies the doctor (manage.py verify_doctor; or the admin's action)"
"$PY" manage.py verify_doctor "$DOCTOR"

step "Log in with username or email -> access and refresh tokens"
ACCESS=$(call POST /api/auth/login/ "{\"username\":\"$PATIENT@example.com\",\"password\":\"$PASSWORD\"}" | field '["access"]')
call PATCH /api/auth/profile/ '{"email_digest_enabled": true}'
echo

step "Choose the verified doctor"
DOCTOR_ID=$(call GET /api/auth/doctors/ | "$PY" -c "import json,sys; print(next(d['id'] for d in json.load(sys.stdin) if d['username'] == '$DOCTOR'))")
call PUT /api/auth/assign-doctor/ "{\"assigned_doctor\": $DOCTOR_ID}"
echo

step "A medication at two local times; reminder_times are computed"
MEDICATION=$(call POST /api/medications/ "{\"name\":\"Metformin\",\"dosage\":\"500 mg\",\"frequency\":\"custom\",\"custom_schedule\":[\"08:00\",\"20:00\"],\"start_date\":\"$(day -7)\"}")
echo "$MEDICATION"
MEDICATION_ID=$(echo "$MEDICATION" | field '["id"]')

step "Answer a dose: log the one just taken, find it in the dose history, confirm it"
DOSE_ID=$(call POST "/api/medications/$MEDICATION_ID/doses/" '{}' | field '["id"]')
call GET /api/medications/reminders/ | "$PY" -c "import json,sys; print(next(r for r in json.load(sys.stdin) if r['id'] == $DOSE_ID))"
call POST "/api/medications/reminders/$DOSE_ID/taken/" | field '["status"]'
call GET "/api/medications/adherence/?days=30" | field '["adherence_rate"]'

step "Symptoms and moods on the last days (inside the 7-day insight window)"
for ago in 0 1 3; do
	call POST /api/symptoms/ "{\"name\":\"Headache\",\"severity\":$((4 + ago)),\"date\":\"$(day -$ago)\"}" | field '["date"]'
done
call POST /api/moods/ "{\"mood\":4,\"date\":\"$(day 0)\"}" | field '["mood_display"]'

step "Dashboard (Chart.js), insights, the PDF report"
call GET "/api/dashboard/?days=30" | field '["stats"]'
call GET "/api/symptoms/ai_insights/?days=7" | field '["symptom_count"]'
REPORT=$(mktemp --suffix=.pdf)
curl -sS -f "$B/api/reports/export/?days=30" -H "Authorization: Bearer $ACCESS" -o "$REPORT"
head -c 5 "$REPORT" | grep -q '%PDF' && echo "report: $REPORT"

step "The doctor reads the patient's dashboard; the patient sees that read in the access log"
PATIENT_ID=$(call GET /api/auth/profile/ | field '["id"]')
PATIENT_ACCESS=$ACCESS
ACCESS=$(call POST /api/auth/login/ "{\"username\":\"$DOCTOR\",\"password\":\"$PASSWORD\"}" | field '["access"]')
call GET "/api/dashboard/?days=7&patient=$PATIENT_ID" | field '["stats"]'
ACCESS=$PATIENT_ACCESS
call GET /api/auth/access-log/ | field '[0]["resource"]'

printf '\nTour complete: patient %s, doctor %s.\n' "$PATIENT" "$DOCTOR"

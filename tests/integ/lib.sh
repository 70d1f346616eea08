# lib.sh - helpers the shell integration tests share (sourced, not run).
#
# The caller sets NUMASIM (the CLI) and DIR (a scratch directory) first, and counts with
# $checks and $failures.
#   fail MESSAGE                   one failed check, said on stderr
#   run EXPECTED_STATUS ARGS...    numasim ARGS; stdout in $out and $DIR/out, stderr in $err
#                                  and $DIR/err; a failing command must say one line on stderr
#   expect PATTERN out|err|FILE    the last run's stdout/stderr, or FILE, matches grep -E PATTERN
#   no_sanitizer_reports WHAT LOG...   no log holds an ASan/LSan/TSan/UBSan report
#   finish NAME                    the summary line; exit status 0 only without failures

checks=0
failures=0

fail() {
	failures=$((failures + 1))
	echo "FAIL: $*" >&2
}

run() {
	want=$1
	shift
	checks=$((checks + 1))
	"$NUMASIM" "$@" >"$DIR/out" 2>"$DIR/err"
	got=$?
	out=$(cat "$DIR/out")
	err=$(cat "$DIR/err")
	if [ "$got" -ne "$want" ]; then
		fail "numasim $* exited $got, expected $want; stdout: $(printf '%s' "$out" | head -c 400); stderr: $err"
		return 1
	fi
	if [ "$want" -ne 0 ] && [ "$(wc -l <"$DIR/err")" -ne 1 ]; then
		fail "numasim $*: expected one line on stderr, got: $err"
	fi
	return 0
}

expect() {
	checks=$((checks + 1))
	case "$2" in
	out | err) eval "text=\$$2" ;;
	*) text=$(cat "$2") ;;
	esac
	printf '%s\n' "$text" | grep -Eq -- "$1" ||
		fail "expected /$1/ in $2: $(printf '%s' "$text" | head -c 400)"
}

no_sanitizer_reports() {
	what=$1
	shift
	if grep -lE "AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error" "$@" 2>/dev/null; then
		fail "$what left a sanitizer report"
	fi
}

finish() {
	echo "$1: $checks checks, $failures failures"
	[ "$failures" -eq 0 ]
}

#!/usr/bin/env bash
# Builds Broker.sln once (Release) and runs every test project against PostgreSQL.
#
#   scripts/test.sh [extra `dotnet test` arguments, e.g. --filter FullyQualifiedName~Postgres]
#
# PostgreSQL: with BROKER_TEST_PG (or ConnectionStrings__Broker) set, the tests use that
# server (its role must be allowed to CREATE DATABASE). Otherwise this script starts a
# throwaway server on a free loopback port (installing Debian's `postgresql` if needed)
# and removes it at exit. Every test class that needs PostgreSQL has `Postgres` in its
# name; a run in which no such test ran counts as a failure.
# BROKER_SKIP_BROWSER=1 skips installing Chromium (the browser tests need /usr/bin/chromium).
#
# The last line printed is always `N passed, N failed[, N skipped]`; the exit code is
# non-zero when the build failed, a test failed, `dotnet test` failed or no test ran.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd -- "$script_dir/.."

start_seconds=$SECONDS
export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"
# No MSBuild worker nodes left running after the build.
export MSBUILDDISABLENODEREUSE=1

pg_dir=""      # throwaway PostgreSQL (scripts/pg.sh); removed at exit
pg_bin=""
results=""     # trx files of this run; removed at exit
child=""       # pid (= process group id) of the running dotnet command

log() { printf '==> %s\n' "$*"; }
error() { printf 'ERROR: %s\n' "$*"; }

wall_time() {
    local s=$((SECONDS - start_seconds))
    printf 'Wall time: %dm%02ds\n' $((s / 60)) $((s % 60))
}

# Stops here: prints the reason and a failing summary line. The EXIT trap cleans up.
fail_early() {
    error "$*"
    wall_time
    echo "0 passed, 1 failed"
    exit 1
}

stop_postgres() {
    if [[ -n $pg_dir && -n $pg_bin ]]; then
        PG_BIN=$pg_bin scripts/pg.sh stop "$pg_dir" || true
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n $child ]]; then
        kill -TERM -- "-$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
        child=""
    fi
    stop_postgres
    if [[ -n $results ]]; then rm -rf -- "$results"; fi
    # CI only (nothing else builds there): stop the compiler servers this run started so
    # that no process outlives the job.
    if [[ ${CI:-} == true ]]; then dotnet build-server shutdown >/dev/null 2>&1 || true; fi
    exit "$rc"
}
on_signal() {
    echo
    error "interrupted by SIG$1"
    exit $((128 + $2))
}
trap cleanup EXIT
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

# Runs a dotnet command in its own process group, so that an interrupt of this script
# also ends the test hosts and whatever the tests started (browsers, fake upstreams).
run_child() {
    setsid "$@" </dev/null &
    child=$!
    local rc=0
    wait "$child" || rc=$?
    child=""
    return "$rc"
}

# ---------------------------------------------------------------- Debian packages
apt_updated=0
apt_install() {
    if [[ $EUID -ne 0 ]]; then
        error "installing $* needs root (run as root or install it by hand)"
        return 1
    fi
    local out
    out=$(mktemp)
    if [[ $apt_updated -eq 0 ]]; then
        log "apt-get update"
        if ! apt-get update -q >"$out" 2>&1 </dev/null; then
            error "apt-get update failed:"
            tail -n 30 "$out"
            rm -f -- "$out"
            return 1
        fi
        apt_updated=1
    fi
    log "apt-get install $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "$@" \
        >"$out" 2>&1 </dev/null; then
        error "apt-get install $* failed:"
        tail -n 40 "$out"
        rm -f -- "$out"
        return 1
    fi
    rm -f -- "$out"
}

# ---------------------------------------------------------------- PostgreSQL
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((15000 + RANDOM % 15000))   # below Linux's ephemeral range (32768+)
        if ! port_in_use "$p"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

start_postgres() {
    pg_dir=$(mktemp -d /tmp/broker-test-pg.XXXXXX)
    local attempt port="" rc connection=""
    for attempt in 1 2 3 4 5; do
        port=$(pick_port) || fail_early "found no free TCP port on 127.0.0.1"
        rc=0
        connection=$(PG_BIN=$pg_bin scripts/pg.sh start "$pg_dir" "$port") || rc=$?
        case $rc in
        0) break ;;
        2) fail_early "initdb failed" ;;
        4) fail_early "PostgreSQL on port $port does not accept connections" ;;
        esac
        # Most likely the port was taken between the check and the bind: try another.
        log "PostgreSQL did not start on port $port (attempt $attempt)"
    done
    if [[ $rc -ne 0 ]]; then
        tail -n 30 "$pg_dir/server.log" 2>/dev/null || true
        fail_early "could not start PostgreSQL (log above)"
    fi
    log "Throwaway PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($pg_dir)"
    export BROKER_TEST_PG="$connection"
}

# ---------------------------------------------------------------- trx parsing
# One line per element, so that attributes split over lines are found too.
trx_elements() { # element-name files...
    local name=$1 f
    shift
    for f in "$@"; do
        tr '\r\n' '  ' <"$f" | grep -o "<$name [^>]*>" || true
    done
}

# Prints: total executed passed failed error timeout aborted notExecuted
sum_counters() {
    awk '{
        s = $0
        while (match(s, /[A-Za-z]+="[0-9]+"/)) {
            kv = substr(s, RSTART, RLENGTH)
            s = substr(s, RSTART + RLENGTH)
            eq = index(kv, "=")
            sum[substr(kv, 1, eq - 1)] += substr(kv, eq + 2, length(kv) - eq - 2)
        }
    }
    END {
        printf "%d %d %d %d %d %d %d %d\n", sum["total"], sum["executed"], sum["passed"],
            sum["failed"], sum["error"], sum["timeout"], sum["aborted"], sum["notExecuted"]
    }'
}

# Prints "outcome<TAB>testName" for each UnitTestResult element.
test_outcomes() {
    awk 'function attr(s, name) {
            if (match(s, " " name "=\"[^\"]*\""))
                return substr(s, RSTART + length(name) + 3, RLENGTH - length(name) - 4)
            return ""
        }
        { printf "%s\t%s\n", attr($0, "outcome"), attr($0, "testName") }'
}

xml_unescape() {
    sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
}

# Reads the trx files in $1 (dotnet test exited with $2), prints the failed tests, the
# PostgreSQL check and the summary line; sets `failures`.
summarize() {
    local results=$1 test_rc=$2
    local trx_files total executed passed failed errors timeouts aborted not_executed
    local outcomes skipped ran failed_names pg_run
    mapfile -t trx_files < <(find "$results" -type f -name '*.trx' | sort)
    read -r total executed passed failed errors timeouts aborted not_executed \
        < <(trx_elements Counters "${trx_files[@]}" | sum_counters)
    outcomes=$(trx_elements UnitTestResult "${trx_files[@]}" | test_outcomes)

    echo
    echo "==================== summary"
    echo "Result files: ${#trx_files[@]} trx; counters: total=$total executed=$executed passed=$passed failed=$failed error=$errors timeout=$timeouts aborted=$aborted notExecuted=$not_executed"

    failures=$((failed + errors + timeouts + aborted))
    # xunit's skipped tests are "NotExecuted" results that the trx counters leave out of both
    # `executed` and `notExecuted`, so count what was not executed either way.
    skipped=$((total - executed))
    if ((not_executed > skipped)); then skipped=$not_executed; fi
    ran=$((passed + failures))

    failed_names=$(printf '%s\n' "$outcomes" | awk -F'\t' '$1 == "Failed" || $1 == "Error" || $1 == "Timeout" || $1 == "Aborted" { print "  " $2 " [" $1 "]" }' | xml_unescape)
    if [[ -n $failed_names ]]; then
        echo "Failed tests:"
        printf '%s\n' "$failed_names"
    fi

    pg_run=$(printf '%s\n' "$outcomes" | awk -F'\t' '$1 != "" && $1 != "NotExecuted" && tolower($2) ~ /postgres/ { n++ } END { print n + 0 }')
    echo "PostgreSQL tests run: $pg_run"

    if [[ $ran -eq 0 ]]; then
        error "no tests ran (dotnet test exit code $test_rc)"
        failures=$((failures + 1))
    elif [[ $pg_run -eq 0 ]]; then
        error "no PostgreSQL test ran: the PostgreSQL suite must not be skipped (test classes that need PostgreSQL have 'Postgres' in their name)"
        failures=$((failures + 1))
    fi
    if ((ran > 0 && test_rc != 0 && failed + errors + timeouts + aborted == 0)); then
        error "dotnet test exited with code $test_rc but no test result says failed (a crashed test host? see the log above)"
        failures=$((failures + 1))
    fi

    wall_time
    if [[ $skipped -gt 0 ]]; then
        echo "$passed passed, $failures failed, $skipped skipped"
    else
        echo "$passed passed, $failures failed"
    fi
}

# ---------------------------------------------------------------- main
command -v dotnet >/dev/null || fail_early "dotnet is not on PATH"

if [[ -z ${BROKER_TEST_PG:-} && -n ${ConnectionStrings__Broker:-} ]]; then
    export BROKER_TEST_PG="$ConnectionStrings__Broker"
fi
if [[ -z ${BROKER_TEST_PG:-} ]]; then
    pg_bin=$(scripts/pg.sh bin)
    if [[ -z $pg_bin ]]; then
        apt_install postgresql || fail_early "could not install PostgreSQL (Debian package postgresql)"
        pg_bin=$(scripts/pg.sh bin)
        [[ -n $pg_bin ]] || fail_early "PostgreSQL installed, but no server binaries in /usr/lib/postgresql/*/bin"
    fi
    if ! id -u postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres ||
            fail_early "could not create the postgres OS user"
    fi
else
    log "Using the PostgreSQL server given in the environment"
fi

if [[ ${BROKER_SKIP_BROWSER:-0} != 1 && ! -x /usr/bin/chromium ]]; then
    apt_install chromium || fail_early "could not install Chromium (Debian package chromium)"
fi
if ! command -v node >/dev/null; then
    apt_install nodejs npm || fail_early "could not install Node.js (Debian packages nodejs, npm)"
fi
# The walk-through test runs docs/api.md's curl commands as written.
command -v curl >/dev/null || apt_install curl || fail_early "could not install curl (Debian package curl)"
command -v kubectl >/dev/null || apt_install kubectl || error "could not install kubectl (package kubectl): the deploy/k8s tests (Broker.Deploy.Tests) will fail"

log "dotnet build Broker.sln -c Release"
build_rc=0
run_child dotnet build Broker.sln -c Release -nologo || build_rc=$?
if [[ $build_rc -ne 0 ]]; then
    fail_early "build failed (dotnet build exit code $build_rc)"
fi

if [[ -z ${BROKER_TEST_PG:-} ]]; then
    start_postgres
fi

results=$(mktemp -d "${TMPDIR:-/tmp}/broker-test-results.XXXXXX")
log "dotnet test Broker.sln -c Release --no-build $*"
test_rc=0
# Suites that measure (the cluster suite) write their figures here; printed before the summary.
export BROKER_TEST_FIGURES="$results/figures.txt"
if [[ $# -gt 0 ]]; then
    run_child dotnet test Broker.sln -c Release --no-build --logger trx --results-directory "$results" "$@" ||
        test_rc=$?
else
    # The cluster suite runs silo processes against failure-detection and refresh timings; it runs
    # alone, after the other suites (which run in parallel with each other), so that two cores
    # are not shared with five test hosts while it kills silos.
    run_child dotnet test Broker.sln -c Release --no-build --logger trx --results-directory "$results" \
        --filter "FullyQualifiedName!~Broker.Cluster.Tests" || test_rc=$?
    log "dotnet test tests/Broker.Cluster.Tests -c Release --no-build"
    run_child dotnet test tests/Broker.Cluster.Tests -c Release --no-build --logger trx --results-directory "$results" ||
        test_rc=$?
fi

if [[ -s $BROKER_TEST_FIGURES ]]; then
    log "figures"
    cat -- "$BROKER_TEST_FIGURES"
fi
summarize "$results" "$test_rc"
[[ $failures -eq 0 ]]

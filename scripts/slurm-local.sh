#!/usr/bin/env bash
# A one-node Slurm cluster on localhost in a sandbox directory, for testing
# the sweep scripts against a real Slurm (Debian 12: slurm-wlm 22.05, munge).
#
#   scripts/slurm-local.sh start DIR   munged, slurmctld and slurmd, all files in DIR
#   scripts/slurm-local.sh stop DIR    stops exactly the daemons that start started
#   scripts/slurm-local.sh status DIR  says which of them are running
#
# Nothing outside DIR is written or read but the installed programs and the
# munge user's identity: a private munge key and socket, a private
# slurm.conf, state, spool, log and pid files, and free private ports, so a
# system munged or Slurm (if any) is not disturbed. Needs root (slurmd and
# SlurmUser=root) and the `munge` user (Debian's munge package).
set -euo pipefail

PROG=slurm-local.sh

usage() {
  cat <<EOF
usage: scripts/$PROG start DIR [--cpus N] [--timeout S]
       scripts/$PROG stop DIR
       scripts/$PROG status DIR

A one-node Slurm 22.05 cluster on localhost, in the sandbox directory DIR
(created if missing): munged (as user munge, a private key and socket in
DIR/munge), slurmctld and slurmd (SlurmUser=root) on free private ports,
with slurm.conf, state, spool, logs and pid files in DIR. A system munged
or Slurm is not touched.

  start DIR     start the three daemons (DIR is given search permission
                for all, as munged runs as user munge), wait until sinfo shows the node
                idle, then print the line to paste into a shell:
                  export SLURM_CONF=DIR/slurm.conf
                (every Slurm command needs it to reach this cluster)
  stop DIR      stop the daemons start started (by their pid files, each
                checked to be that program) and the job steps of this
                cluster, and wait until they have exited
  status DIR    list the sandbox's daemons and whether they run (exit 0 if
                all three do, 1 otherwise)

  --cpus N      CPUs the node offers (default: every CPU, $(nproc 2>/dev/null || echo 1) here)
  --timeout S   seconds start waits for the node to be idle (default 30)
  -h, --help    this help

Exit status: 0 done, 1 a daemon failed (its log is shown), 2 bad usage.
Needs root, munged, slurmctld, slurmd, sinfo (Debian: munge slurm-wlm).
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
bad_usage() { echo "$PROG: $*" >&2; echo "usage: scripts/$PROG start|stop|status DIR (--help for more)" >&2; exit 2; }

for a in "$@"; do
  case "$a" in -h|--help) usage; exit 0 ;; esac
done

[ $# -ge 2 ] || bad_usage "expected a command and a directory"
CMD=$1 DIR=$2
shift 2
CPUS=$(nproc 2>/dev/null || echo 1)
TIMEOUT=30
while [ $# -gt 0 ]; do
  case "$1" in
    --cpus) [ $# -ge 2 ] || bad_usage "--cpus wants a number"; CPUS=$2; shift 2 ;;
    --cpus=*) CPUS=${1#*=}; shift ;;
    --timeout) [ $# -ge 2 ] || bad_usage "--timeout wants seconds"; TIMEOUT=$2; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    *) bad_usage "unknown argument: $1" ;;
  esac
done
case "$CMD" in start|stop|status) ;; *) bad_usage "unknown command: $CMD" ;; esac
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] || bad_usage "--cpus wants a positive number, got $CPUS"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || bad_usage "--timeout wants a positive number, got $TIMEOUT"
case "$DIR" in *[[:space:]]*) bad_usage "DIR must not contain white space: $DIR" ;; esac

mkdir_dir() { mkdir -p "$1" || die "cannot create $1"; }
if [ "$CMD" = start ]; then mkdir_dir "$DIR"; fi
[ -d "$DIR" ] || die "$DIR: no such directory"
DIR=$(cd "$DIR" && pwd -P)
CONF=$DIR/slurm.conf
MUNGE_DIR=$DIR/munge
SOCKET=$MUNGE_DIR/munge.socket.2
MUNGE_PID=$MUNGE_DIR/munged.pid
CTLD_PID=$DIR/run/slurmctld.pid
SLURMD_PID=$DIR/run/slurmd.pid
export SLURM_CONF=$CONF

# True when process PID exists and is not a zombie (one that exited, whose
# parent has not reaped it yet: it does nothing and holds no port).
running() {
  kill -0 "$1" 2>/dev/null || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# The pid in FILE if that process runs and is the program NAME (a pid file
# left by a daemon that died may name an unrelated process by now).
live_pid() {
  local file=$1 name=$2 pid comm
  [ -s "$file" ] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [ "$comm" = "$name" ] && running "$pid" || return 1
  echo "$pid"
}

# Job steps and job processes of this cluster: slurmstepd, and processes
# of jobs (SLURM_JOB_ID set), that carry SLURM_CONF=$CONF (slurmd, which
# runs with it, passes it on), but for zombies, this script and its callers
# (a shell of the user's may have SLURM_CONF=$CONF too).
job_pids() {
  local p pid mine=" " env
  pid=$$
  while [ "$pid" -gt 1 ] 2>/dev/null; do
    mine+="$pid "
    pid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
  done
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    case "$mine" in *" $pid "*) continue ;; esac
    env=$( { tr '\0' '\n' <"$p/environ"; } 2>/dev/null) || continue
    grep -qxF "SLURM_CONF=$CONF" <<<"$env" || continue
    [ "$( { cat "$p/comm"; } 2>/dev/null)" = slurmstepd ] || grep -q '^SLURM_JOB_ID=' <<<"$env" || continue
    running "$pid" && echo "$pid"
  done
}

# Stops the daemons named by "FILE:NAME" arguments (pid file, program):
# SIGTERM to all at once, up to 10 s for them to exit, then SIGKILL.
stop_daemons() {
  local fn file name pid pids=() names=() i n
  for fn in "$@"; do
    file=${fn%%:*} name=${fn##*:}
    if pid=$(live_pid "$file" "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid") names+=("$name")
    fi
    rm -f "$file"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for i in $(seq 100); do
    n=0
    for pid in "${pids[@]}"; do running "$pid" && n=$((n + 1)); done
    [ "$n" -eq 0 ] && return 0
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if running "${pids[$i]}"; then
      echo "$PROG: ${names[$i]} (${pids[$i]}) did not stop on SIGTERM; sending SIGKILL" >&2
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  for i in $(seq 50); do
    n=0
    for pid in "${pids[@]}"; do running "$pid" && n=$((n + 1)); done
    [ "$n" -eq 0 ] && return 0
    sleep 0.1
  done
}

stop_all() {
  local pid i
  # Cancel what this cluster still runs, while it can be asked.
  if live_pid "$CTLD_PID" slurmctld >/dev/null; then
    timeout 10 scancel --quiet --full --user="$(id -un)" >/dev/null 2>&1 || true
  fi
  # Job steps and jobs left (a cancel cannot reach them when slurmctld is
  # gone), then the daemons, all at once (each takes a second or two).
  for pid in $(job_pids); do kill -TERM "$pid" 2>/dev/null || true; done
  stop_daemons "$SLURMD_PID:slurmd" "$CTLD_PID:slurmctld" "$MUNGE_PID:munged"
  for pid in $(job_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  for i in $(seq 50); do [ -z "$(job_pids)" ] && break; sleep 0.1; done
  [ -z "$(job_pids)" ] || echo "$PROG: job processes still running: $(job_pids | tr '\n' ' ')" >&2
}

show_log() {
  local f=$1
  [ -s "$f" ] || return 0
  echo "--- last lines of $f:" >&2
  tail -n 15 "$f" >&2
}

fail_start() {
  echo "$PROG: $*" >&2
  show_log "$MUNGE_DIR/munged.log"
  show_log "$DIR/log/slurmctld.log"
  show_log "$DIR/log/slurmd.log"
  stop_all
  exit 1
}

# A TCP port nobody listens on, not in $1 (a list of ports to avoid).
free_port() {
  local avoid=$1 p used
  used=$(ss -Htan 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -u)
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    case " $avoid " in *" $p "*) continue ;; esac
    grep -qx "$p" <<<"$used" && continue
    echo "$p"
    return 0
  done
  return 1
}

status() {
  local rc=0 pid
  for d in "munged:$MUNGE_PID" "slurmctld:$CTLD_PID" "slurmd:$SLURMD_PID"; do
    if pid=$(live_pid "${d#*:}" "${d%%:*}"); then
      echo "${d%%:*} running, pid $pid"
    else
      echo "${d%%:*} not running"; rc=1
    fi
  done
  return $rc
}

case "$CMD" in
  status) status; exit $? ;;
  stop) stop_all; exit 0 ;;
esac

# ---- start
[ "$(id -u)" -eq 0 ] || die "start needs root (slurmd, SlurmUser=root)"
for p in munged munge slurmctld slurmd sinfo scancel runuser ss; do
  command -v "$p" >/dev/null || die "$p is not installed (Debian: apt-get install munge slurm-wlm)"
done
id munge >/dev/null 2>&1 || die "there is no user munge (Debian's munge package makes it)"
if live_pid "$CTLD_PID" slurmctld >/dev/null || live_pid "$SLURMD_PID" slurmd >/dev/null ||
   live_pid "$MUNGE_PID" munged >/dev/null; then
  die "a sandbox cluster already runs in $DIR (scripts/$PROG stop $DIR first)"
fi

VERSION=$(slurmctld -V 2>/dev/null | awk '{print $2}')
case "$VERSION" in 22.05.*) ;; *) echo "$PROG: slurmctld is version ${VERSION:-unknown}, tested with 22.05" >&2 ;; esac

# A fresh cluster each time: no jobs or node states recovered from a run
# before (state and spool are this sandbox's own).
rm -rf "$DIR/state" "$DIR/spool"
mkdir_dir "$DIR/state"; mkdir_dir "$DIR/spool"; mkdir_dir "$DIR/log"; mkdir_dir "$DIR/run"
# munged runs as munge: it must reach DIR/munge (search permission on the
# way) and owns that directory; its key is private to it.
chmod a+x "$DIR"
install -d -o munge -g munge -m 0755 "$MUNGE_DIR"
runuser -u munge -- test -w "$MUNGE_DIR" ||
  die "user munge cannot reach $MUNGE_DIR: give every directory above it search permission (o+x), or use a DIR under /tmp"
if [ ! -s "$MUNGE_DIR/munge.key" ]; then
  ( umask 077; head -c 1024 /dev/urandom >"$MUNGE_DIR/munge.key" )
fi
chown munge:munge "$MUNGE_DIR/munge.key"
chmod 0400 "$MUNGE_DIR/munge.key"
rm -f "$SOCKET" "$SOCKET.lock"

runuser -u munge -- munged --socket="$SOCKET" --key-file="$MUNGE_DIR/munge.key" \
  --pid-file="$MUNGE_PID" --log-file="$MUNGE_DIR/munged.log" \
  --seed-file="$MUNGE_DIR/munged.seed" ||
  fail_start "munged did not start"
for _ in $(seq 50); do [ -S "$SOCKET" ] && break; sleep 0.1; done
munge -n -S "$SOCKET" | unmunge -S "$SOCKET" >/dev/null 2>&1 ||
  fail_start "munged does not answer on $SOCKET"

HOST=$(hostname -s)
CTLD_PORT=$(free_port "") || fail_start "no free TCP port"
SLURMD_PORT=$(free_port "$CTLD_PORT") || fail_start "no free TCP port"
MEM_MB=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
: >"$DIR/plugstack.conf"
cat >"$CONF" <<EOF
# One-node sandbox cluster written by scripts/$PROG; every path is in $DIR.
ClusterName=limitnet-sandbox
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
PlugStackConfig=$DIR/plugstack.conf
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ReturnToService=2
SlurmdParameters=config_overrides
# sbatch --wait sleeps 2 s between polls, four times longer while that is
# under MinJobAge/2: 4 keeps it at 2 s, and a finished job stays listed
# until it has looked.
MinJobAge=4
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -f "$CONF" || fail_start "slurmctld did not start"
slurmd -f "$CONF" || fail_start "slurmd did not start"

state=""
for _ in $(seq $((TIMEOUT * 5))); do
  live_pid "$CTLD_PID" slurmctld >/dev/null || { sleep 0.2; live_pid "$CTLD_PID" slurmctld >/dev/null || fail_start "slurmctld exited"; }
  state=$(timeout 5 sinfo -h -N -o %T 2>/dev/null | head -n 1) || true
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || fail_start "the node is not idle after ${TIMEOUT} s (sinfo says: ${state:-nothing})"

echo "$PROG: one-node Slurm $VERSION on $HOST (ports $CTLD_PORT, $SLURMD_PORT) in $DIR; stop it with scripts/$PROG stop $DIR" >&2
echo "export SLURM_CONF=$CONF"

#!/usr/bin/env bash
# Runs a real one-node Slurm cluster (Debian's slurm-wlm and munge, no systemd), for sshard's Slurm tests.
#
# Everything lives in DIR:
#
#   DIR/munge/                 munged's key, socket (dir mode 755), pid, log and seed
#   DIR/slurm.conf             the cluster's config: point clients at it with SLURM_CONF=DIR/slurm.conf
#   DIR/ctld/, DIR/spool/      slurmctld's state and slurmd's spool
#   DIR/slurmctld.{pid,log}    the controller
#   DIR/slurmd.{pid,log}       the node's daemon
#   DIR/env                    SLURM_CONF=DIR/slurm.conf, for scripts to source
#   DIR/db/                    with --accounting: MariaDB's data, socket, pid and log
#   DIR/slurmdbd.{conf,pid,log} with --accounting: the accounting daemon
#
# Usage:
#   cluster.sh start [--accounting] DIR
#                            start the cluster (stops one already running in DIR first); returns once sinfo
#                            shows the node idle. With --accounting, slurmdbd on a MariaDB of its own too, the
#                            cluster added with sacctmgr, and jobacct_gather/linux, so that sacct reports MaxRSS
#   cluster.sh stop DIR      cancel every job, stop the daemons and every process of a job; never fails when
#                            nothing runs
#
# The node is "node1" on 127.0.0.1 with SSHARD_SLURM_CPUS CPUs (default 8), whatever the machine has
# (SlurmdParameters=config_overrides), in the partition "debug". A task's start and end take Slurm about a second
# whatever it runs, so 8 CPUs cap the cluster near 8 tasks/s; the benches give it more. slurmctld listens on
# $SSHARD_SLURM_PORT, slurmd on the port after it, MariaDB (TCP on 127.0.0.1, user slurm with a password) on the
# next and slurmdbd on the one after; when unset,
# 23000 + 4 x (SSHARD_CLUSTER_PORT mod 1000), SSHARD_CLUSTER_PORT 22022 when unset too: checkouts whose SSH
# clusters differ by one port get Slurm ports that do not overlap. With --accounting, 4000 more, so that a
# cluster with accounting runs beside one without (the tests run both).
#
# What a daemon-less start needs (found by trial on Slurm 22.05): munged --force with a key of its own and
# its socket directory mode 755; proctrack/linuxproc and task/none (no cgroups); select/cons_tres with CR_CPU;
# sched_interval=2,bf_interval=1 (the default 60 s delays work that is requeued); every descriptor above 2
# closed in the daemons (a daemon holding an inherited lock file hangs the next start). For accounting:
# AccountingStoragePass= the munge socket, slurmdbd to MariaDB over TCP with a password user, and the cluster
# added with `sacctmgr -i add cluster` before slurmctld starts.
#
# Needs root. Sends traffic to 127.0.0.1 only.
set -euo pipefail

readonly START_TIMEOUT_S=20
readonly STOP_TIMEOUT_S=10
readonly NODE=node1
readonly CPUS=${SSHARD_SLURM_CPUS:-8}
readonly DB_PASSWORD=sshard-test-only

prog=${0##*/}

die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s start [--accounting] DIR | stop DIR\n' "$prog" >&2
  exit 2
}

# Runs a command as a daemon would want it: every inherited descriptor above 2 closed, stdin from /dev/null.
run_clean() {
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [[ $fd -gt 2 ]]; then
        eval "exec $fd>&-" 2>/dev/null || true
      fi
    done
    exec "$@" </dev/null >>"$cluster/daemons.log" 2>&1
  )
}

# True once CONDITION (a command) succeeds, polled every 0.1 s for at most SECONDS.
eventually() {
  local seconds=$1
  shift
  local tries=$((seconds * 10))
  while ((tries-- > 0)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

write_config() {
  local port=$1 host
  host=$(hostname -s)
  cat >"$cluster/slurm.conf" <<EOF
ClusterName=sshard
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$cluster/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$cluster/ctld
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd.pid
SlurmctldLogFile=$cluster/slurmctld.log
SlurmdLogFile=$cluster/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=1
MaxArraySize=100001
MaxJobCount=200000
MaxStepCount=200000
MinJobAge=300
KillWait=2
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  if ((accounting)); then
    cat >>"$cluster/slurm.conf" <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((port + 3))
AccountingStoragePass=$cluster/munge/munge.socket.2
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
EOF
  else
    printf 'AccountingStorageType=accounting_storage/none\nJobAcctGatherType=jobacct_gather/none\n' \
      >>"$cluster/slurm.conf"
  fi
  printf 'SLURM_CONF=%s/slurm.conf\nexport SLURM_CONF\n' "$cluster" >"$cluster/env"
}

start_munge() {
  local m=$cluster/munge
  mkdir -p "$m"
  chmod 755 "$m"
  [[ -s $m/munge.key ]] || { head -c 1024 /dev/urandom >"$m/munge.key" && chmod 400 "$m/munge.key"; }
  run_clean munged --force --socket="$m/munge.socket.2" --key-file="$m/munge.key" --pid-file="$m/munged.pid" \
    --log-file="$m/munged.log" --seed-file="$m/munged.seed" ||
    die "munged did not start (see $m/munged.log)"
  eventually 5 test -S "$m/munge.socket.2" || die "munged made no socket in $m"
}

# MariaDB for slurmdbd: a database of its own under DIR/db, on a socket there and TCP 127.0.0.1:PORT, with the
# user slurm (password DB_PASSWORD) that slurmdbd logs in as. The server's files stay from one start to the next
# (making them takes seconds), but not the accounting database: slurmctld -i numbers jobs from 1 again, and sacct
# must not find an earlier start's job 1.
start_mariadb() {
  local port=$1 db=$cluster/db
  mkdir -p "$db"
  if [[ ! -d $db/data/mysql ]]; then
    mariadb-install-db --no-defaults --datadir="$db/data" --user=root --skip-test-db \
      --auth-root-authentication-method=socket >"$db/install.log" 2>&1 ||
      die "mariadb-install-db failed (see $db/install.log)"
  fi
  # setsid -f: mariadbd does not go to the background by itself.
  run_clean setsid -f mariadbd --no-defaults --datadir="$db/data" --socket="$db/mysqld.sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$db/mariadbd.pid" --log-error="$db/mariadbd.log" --user=root \
    --tmpdir="$db" --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=32M \
    --innodb-flush-log-at-trx-commit=0
  eventually 20 mariadb --no-defaults --socket="$db/mysqld.sock" -u root -e 'select 1' >/dev/null 2>&1 ||
    die "MariaDB did not start (see $db/mariadbd.log)"
  mariadb --no-defaults --socket="$db/mysqld.sock" -u root -e "
    DROP DATABASE IF EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" || die "cannot make MariaDB's user slurm"
}

start_slurmdbd() {
  local port=$1 host
  host=$(hostname -s)
  (
    umask 077
    cat >"$cluster/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$cluster/munge/munge.socket.2
DbdHost=$host
DbdAddr=127.0.0.1
DbdPort=$((port + 3))
SlurmUser=root
PidFile=$cluster/slurmdbd.pid
LogFile=$cluster/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((port + 2))
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
EOF
  )
  run_clean slurmdbd || die "slurmdbd did not start (see $cluster/slurmdbd.log)"
  eventually 20 cluster_added || die "sacctmgr cannot add the cluster (see $cluster/slurmdbd.log)"
}

cluster_added() {
  [[ $(sacctmgr -n -P list cluster format=cluster 2>/dev/null) == sshard ]] ||
    sacctmgr -i add cluster sshard >/dev/null 2>&1
}

node_idle() {
  [[ $(sinfo -h -n "$NODE" -o %t 2>/dev/null) == idle ]]
}

start() {
  local port=${SSHARD_SLURM_PORT:-$((23000 + 4000 * accounting + 4 * (${SSHARD_CLUSTER_PORT:-22022} % 1000)))}
  [[ $CPUS =~ ^[1-9][0-9]{0,4}$ ]] || die "SSHARD_SLURM_CPUS must be a number of CPUs from 1 to 99999, not '$CPUS'"
  stop
  mkdir -p "$cluster/ctld" "$cluster/spool"
  write_config "$port"
  export SLURM_CONF=$cluster/slurm.conf
  start_munge
  if ((accounting)); then
    start_mariadb $((port + 2))
    start_slurmdbd "$port"
  fi
  # -i: start afresh, ignoring the state of a previous cluster in DIR (its jobs are gone).
  run_clean slurmctld -i || die "slurmctld did not start (see $cluster/slurmctld.log)"
  run_clean slurmd -N "$NODE" || die "slurmd did not start (see $cluster/slurmd.log)"
  if ! eventually "$START_TIMEOUT_S" node_idle; then
    tail -n 20 "$cluster/slurmctld.log" "$cluster/slurmd.log" >&2 || true
    die "node $NODE is not idle after ${START_TIMEOUT_S}s"
  fi
}

# PIDs of the processes that hold a file under DIR open or run in it: the daemons, slurmstepd (which holds
# slurmd's log), and the jobs (whose output is under DIR in the tests).
holders() {
  { find /proc/[0-9]*/cwd /proc/[0-9]*/fd/ -maxdepth 1 -lname "$cluster/*" 2>/dev/null || true; } | cut -d/ -f3 | sort -u
}

no_jobs() {
  [[ -z $(squeue -h -o %i 2>/dev/null) ]]
}

stop() {
  [[ -d $cluster ]] || return 0
  if [[ -f $cluster/slurm.conf && -f $cluster/slurmctld.pid ]]; then
    export SLURM_CONF=$cluster/slurm.conf
    scancel --full --quiet --user=root 2>/dev/null || true
    eventually 5 no_jobs || true
  fi
  local f pid
  for f in "$cluster/slurmd.pid" "$cluster/slurmctld.pid" "$cluster/slurmdbd.pid" "$cluster/db/mariadbd.pid" \
    "$cluster/munge/munged.pid"; do
    pid=$(cat "$f" 2>/dev/null) || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  local tries=$((STOP_TIMEOUT_S * 10)) left
  while ((tries-- > 0)); do
    left=$(holders)
    [[ -n $left ]] || break
    # Ask nicely for the first half of the wait, then kill.
    if ((tries < STOP_TIMEOUT_S * 5)); then
      # shellcheck disable=SC2086 # one pid a word
      kill -KILL $left 2>/dev/null || true
    fi
    sleep 0.1
  done
  [[ -z $(holders) ]] || die "processes still hold files in $cluster: $(holders | tr '\n' ' ')"
  rm -f "$cluster"/*.pid "$cluster/munge/munged.pid" "$cluster/munge/munge.socket.2"* "$cluster/db/mariadbd.pid" \
    "$cluster/db/mysqld.sock"*
}

accounting=0
command=${1:-}
shift || true
if [[ $command == start && ${1:-} == --accounting ]]; then
  accounting=1
  shift
fi
[[ $# -eq 1 ]] || usage
mkdir -p "$1"
cluster=$(cd "$1" && pwd -P)
case $command in
start) start ;;
stop) stop ;;
*) usage ;;
esac

#!/usr/bin/env bash
# Runs a real OpenSSH test cluster on loopback, for sshard's SSH tests.
#
# Host I (1..N) is an sshd of its own listening on 127.0.0.(10+I):PORT, with its
# own ed25519 host key; every host lets the local test user sshard-test in with
# one passphrase-less user key. Everything lives in DIR:
#
#   DIR/id_ed25519{,.pub}      the user key
#   DIR/hostI/                 sshd_config, ssh_host_ed25519_key{,.pub}, sshd.pid, sshd.log
#   DIR/known_hosts            "[127.0.0.X]:PORT <host key>" for every host
#   DIR/ssh_config             "Host nodeI" blocks for OpenSSH's client (ssh -F DIR/ssh_config nodeI)
#   DIR/hosts                  node1..nodeN, one per line
#   DIR/env                    SSHARD_CLUSTER=DIR and friends, for scripts to source
#
# A client that connects from SLOW_CLIENT_ADDR (127.0.0.250, e.g. with BindAddress in its ssh_config) finds
# every host slow to start a shard: a session whose command is a slot worker (it names "sshard-worker") or a
# shard's own wrapper (it names an "SSHARD-" marker) sleeps SLOW_START_S (3) seconds in sshd's forced command
# before that command runs, with CLUSTER_SLOW_START=3 in its environment to show it did. Other commands run
# at once, and clients from any other address are not affected. For the tests of timeouts counting from a
# shard's start on its host, not from its channel's set-up.
#
# Usage:
#   cluster.sh start DIR N         start N hosts (1..64); stops a cluster already running in DIR first
#   cluster.sh stop DIR            stop every host and its sessions; never fails when nothing runs
#   cluster.sh status DIR          one line per host: "nodeI running|stopped|paused"
#   cluster.sh kill-host DIR I     SIGKILL host I's sshd and its sessions, as if the machine died
#   cluster.sh start-host DIR I    start host I again, same config and keys
#   cluster.sh pause-host DIR I    SIGSTOP host I's sshd and its sessions: a hung machine
#   cluster.sh resume-host DIR I   SIGCONT them
#
# PORT is $SSHARD_CLUSTER_PORT when start runs (22022 when unset), so that two checkouts on one machine can
# each run a cluster; the other commands take it from DIR/env.
#
# Needs root (it creates the user and starts sshd), OpenSSH's server and client,
# and Linux's /proc. Sends traffic to 127.0.0.0/8 only.
set -euo pipefail

readonly TEST_USER=sshard-test
readonly SSHD=/usr/sbin/sshd
readonly MAX_HOSTS=64
readonly START_TIMEOUT_S=10 # for all hosts of one start together
readonly STOP_GRACE_S=2     # between SIGTERM and SIGKILL
# Matches the command line of a cluster's sshd (" -f DIR/hostI/sshd_config ").
readonly LISTENER_RE=' -f ([^ ]*)/host([0-9]+)/sshd_config '
readonly SLOW_CLIENT_ADDR=127.0.0.250
readonly SLOW_START_S=3

prog=${0##*/}

die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: $prog start DIR N
       $prog stop DIR
       $prog status DIR
       $prog kill-host|start-host|pause-host|resume-host DIR I
EOF
  exit 2
}

# --- small helpers -----------------------------------------------------------

host_addr() { printf '127.0.0.%d' $((10 + $1)); }
host_dir() { printf '%s/host%d' "$cluster" "$1"; }

# Prints the last lines of host I's sshd log, indented, to stderr: only those
# written since this run started it, when it did.
log_tail() {
  local log
  log="$(host_dir "$1")/sshd.log"
  if [[ -s $log ]]; then
    printf '%s: last lines of %s:\n' "$prog" "$log" >&2
    tail -c "+${log_offsets[$1]:-1}" "$log" | tail -n 20 | sed 's/^/    /' >&2
  else
    printf '%s: %s is empty or missing\n' "$prog" "$log" >&2
  fi
}

# True if something accepts TCP connections on ADDR:PORT (bounded to 1 s).
accepts_tcp() {
  # shellcheck disable=SC2016 # $0 and $1 are the inner shell's arguments
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$PORT" 2>/dev/null
}

# Sets p_state (one letter) and p_ppid for PID, or fails if it is gone.
# /proc/PID/stat is "pid (comm) state ppid ..."; comm may hold spaces and
# parentheses, so cut at the last ") ". No subshell: stop walks every process.
p_state=""
p_ppid=""
proc_read() {
  local stat rest
  # read, not $(<...): the latter aborts the shell under set -e when the
  # process is gone. stderr is redirected before the file is opened.
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  rest=${stat##*) }
  p_state=${rest%% *}
  rest=${rest#* }
  p_ppid=${rest%% *}
}

# Fills proc_children (ppid -> " pid pid ...") from /proc, so that process
# trees can be walked without ps or pgrep.
declare -A proc_children=()
scan_procs() {
  local p
  proc_children=()
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    proc_read "$p" || continue
    proc_children[$p_ppid]+=" $p"
  done
}

# Appends PID and all its descendants (as of the last scan_procs) to the array
# tree_pids, parents before children.
tree_pids=()
add_tree() {
  local -a queue=("$1")
  local i=0 p
  while ((i < ${#queue[@]})); do
    p=${queue[i]}
    i=$((i + 1))
    tree_pids+=("$p")
    # shellcheck disable=SC2206 # word splitting of the pid list is intended
    queue+=(${proc_children[$p]:-})
  done
}

# Microseconds since the epoch, without forking.
now_us() { printf '%s\n' "${EPOCHREALTIME/./}"; }

# Fills listener_of (host number -> pid) with the sshd listeners of this
# cluster found in /proc: a process whose command line names
# "-f DIR/hostI/sshd_config" and is not a per-connection child (those are
# re-executed with -R, then retitled without the config path). Done once per run,
# and only when a pid file cannot be trusted.
declare -A listener_of=()
listeners_scanned=false
scan_listeners() {
  local p i
  local -a args
  $listeners_scanned && return 0
  listeners_scanned=true
  for p in /proc/[0-9]*; do
    mapfile -d '' -t args 2>/dev/null <"$p/cmdline" || continue
    [[ " ${args[*]} " =~ $LISTENER_RE ]] || continue
    [[ ${BASH_REMATCH[1]} == "$cluster" ]] || continue
    [[ " ${args[*]} " == *" -R "* ]] && continue
    i=${BASH_REMATCH[2]}
    listener_of[$i]=${p#/proc/}
  done
}

# Sets lpid to the pid named by host I's pid file if that is a live sshd
# started with this host's config (a stale pid file whose pid was reused by
# another process is ignored); fails otherwise.
lpid=""
listener_from_pidfile() {
  local dir pid=""
  local -a args
  lpid=""
  dir=$(host_dir "$1")
  [[ -r $dir/sshd.pid ]] || return 1
  read -r pid 2>/dev/null <"$dir/sshd.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  [[ " ${args[*]} " == *sshd*" -f $dir/sshd_config "* ]] || return 1
  lpid=$pid
}

# Sets lpid to the pid of host I's listener, or fails if it does not run: from
# the pid file, else from /proc, so that a lost or overwritten pid file cannot
# leave an sshd behind.
find_listener() {
  listener_from_pidfile "$1" && return 0
  scan_listeners
  lpid=${listener_of[$1]:-}
  [[ -n $lpid && -e /proc/$lpid ]]
}

# Sends SIGNAL to every pid given that is still alive.
signal_pids() {
  local sig=$1 p
  shift
  for p in "$@"; do
    kill "-$sig" "$p" 2>/dev/null || true
  done
}

# True if any pid given is still alive (zombies count as gone).
any_alive() {
  local p
  for p in "$@"; do
    proc_read "$p" || continue
    [[ $p_state == Z ]] || return 0
  done
  return 1
}

# Waits until none of the pids given is alive, for at most SECONDS seconds
# (fractions allowed, e.g. 0.5); fails if some still are then.
wait_gone() {
  local limit_us deadline
  limit_us=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000000 }')
  shift
  deadline=$(($(now_us) + limit_us))
  while any_alive "$@"; do
    (($(now_us) < deadline)) || return 1
    sleep 0.05
  done
}

# Stops the hosts given: each listener and every process below it (the
# per-connection sshd's and the sessions they run), all hosts together. MODE
# "now" sends SIGKILL at once; "graceful" SIGTERM, then SIGKILL to whatever is
# left after STOP_GRACE_S. Removes the pid files. Skips hosts that do not run.
stop_hosts() {
  local mode=$1 i pid
  shift
  # Collect the trees before signalling: once a listener dies, its children
  # are re-parented and can no longer be found through it.
  listeners_scanned=false
  tree_pids=()
  scan_procs
  for i in "$@"; do
    if find_listener "$i"; then
      add_tree "$lpid"
    fi
  done
  if ((${#tree_pids[@]} > 0)); then
    if [[ $mode == now ]]; then
      signal_pids KILL "${tree_pids[@]}"
    else
      signal_pids TERM "${tree_pids[@]}"
      # A stopped (paused) process acts on SIGTERM only once continued.
      signal_pids CONT "${tree_pids[@]}"
      wait_gone "$STOP_GRACE_S" "${tree_pids[@]}" || signal_pids KILL "${tree_pids[@]}"
    fi
    # Until they are really gone, so that the port is free again (bounded).
    wait_gone 5 "${tree_pids[@]}" ||
      printf '%s: warning: still alive after SIGKILL: %s\n' "$prog" "${tree_pids[*]}" >&2
  fi
  for i in "$@"; do
    rm -f "$(host_dir "$i")/sshd.pid"
  done
}

# True if PID descends from the sshd listener of some test cluster (this one or
# another DIR's): a process on the way up whose command line names
# "-f .../hostI/sshd_config".
under_a_listener() {
  local p=$1 depth=0
  local -a args
  while proc_read "$p" && ((p_ppid > 1 && depth < 64)); do
    p=$p_ppid
    depth=$((depth + 1))
    mapfile -d '' -t args 2>/dev/null <"/proc/$p/cmdline" || return 1
    [[ " ${args[*]} " =~ $LISTENER_RE ]] && return 0
  done
  return 1
}

# Kills the test user's processes that no listener holds any more: sessions
# that left their listener's tree (a daemonised child re-parented to init), and
# so escaped stop_hosts. Sessions under a live listener, such as those of a
# cluster in another DIR, are left alone. The user exists only for these tests.
# Then waits (bounded, 3 s) until init has reaped them too, so that
# "pgrep -u sshard-test" finds nothing once stop returns.
kill_test_user_processes() {
  local uid owner path tries
  uid=$(id -u "$TEST_USER" 2>/dev/null) || return 0
  local -a left=()
  for ((tries = 0; tries < 30; tries++)); do
    left=()
    # One stat for all of /proc: owner and path of each process.
    while read -r owner path; do
      [[ $owner == "$uid" ]] || continue
      under_a_listener "${path#/proc/}" || left+=("${path#/proc/}")
    done < <(stat -c '%u %n' /proc/[0-9]* 2>/dev/null || true)
    ((${#left[@]} == 0)) && return 0
    signal_pids KILL "${left[@]}"
    sleep 0.1
  done
  printf '%s: warning: processes of %s still there: %s\n' "$prog" "$TEST_USER" "${left[*]}" >&2
}

# Host numbers that have a directory in the cluster (whatever N was).
existing_hosts() {
  local d
  for d in "$cluster"/host[0-9]*; do
    if [[ -d $d ]]; then
      printf '%s\n' "${d##*/host}"
    fi
  done | sort -n
}

# Reads N from DIR/env, falling back to the host directories found.
cluster_size() {
  local n=""
  if [[ -r $cluster/env ]]; then
    n=$(sed -n 's/^SSHARD_CLUSTER_N=//p' "$cluster/env")
  fi
  if [[ ! $n =~ ^[0-9]+$ ]]; then
    n=$(existing_hosts | tail -n 1)
  fi
  printf '%s\n' "${n:-0}"
}

check_host_arg() {
  if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > MAX_HOSTS)); then
    die "host number must be 1..$MAX_HOSTS, not '$1'"
  fi
  [[ -f $(host_dir "$1")/sshd_config ]] || die "no host $1 in $cluster (run '$prog start' first)"
}

# --- setup pieces --------------------------------------------------------------

# Creates the test user if missing and (re)installs DIR/id_ed25519.pub as its
# only authorized key.
ensure_test_user() {
  if ! id -u "$TEST_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/sh "$TEST_USER"
  fi
  # "*": no password can match, but the account is not locked ("!" would be,
  # and sshd refuses locked accounts even for public keys when UsePAM is no).
  usermod -p '*' "$TEST_USER"
  local home group
  home=$(getent passwd "$TEST_USER" | cut -d: -f6)
  group=$(id -gn "$TEST_USER")
  [[ -n $home && -d $home ]] || die "home directory of $TEST_USER ('$home') is missing"
  # StrictModes refuses a home directory that others may write.
  chmod go-w "$home"
  install -d -m 0700 -o "$TEST_USER" -g "$group" "$home/.ssh"
  install -m 0600 -o "$TEST_USER" -g "$group" "$cluster/id_ed25519.pub" "$home/.ssh/$(authorized_keys_name)"
}

# The test user's authorized_keys file of this cluster, below ~/.ssh (where StrictModes checks only the home
# directory's modes): one per DIR, so clusters of two checkouts never replace each other's key.
authorized_keys_name() {
  printf 'authorized_keys.%s' "$(printf '%s' "$cluster" | cksum | cut -d' ' -f1)"
}

# Generates an ed25519 key at PATH unless a valid one is already there (keys
# survive a restart, so known_hosts copies made by tests stay valid). PATH.pub
# is always derived anew from the private key, so the two cannot disagree.
ensure_key() {
  local path=$1 comment=$2 pub
  local -a fields
  if [[ -s $path ]] && pub=$(ssh-keygen -y -f "$path" 2>/dev/null); then
    # ssh-keygen -y prints "type key [comment]": keep type and key.
    read -r -a fields <<<"$pub"
    chmod 0600 "$path"
    printf '%s %s %s\n' "${fields[0]}" "${fields[1]}" "$comment" >"$path.pub"
    return 0
  fi
  rm -f "$path" "$path.pub"
  ssh-keygen -q -t ed25519 -N '' -C "$comment" -f "$path" >/dev/null
}

write_sshd_config() {
  local i=$1 dir addr
  dir=$(host_dir "$i")
  addr=$(host_addr "$i")
  # MaxSessions and MaxStartups stay at OpenSSH's defaults on purpose: tests
  # measure sshard against what a stock server allows.
  cat >"$dir/sshd_config" <<EOF
# sshd for host $i of the sshard test cluster in $cluster (written by $prog).
ListenAddress $addr:$PORT
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AuthorizedKeysFile .ssh/$(authorized_keys_name)
StrictModes yes
LogLevel VERBOSE
Subsystem sftp internal-sftp
# Slow shard starts for clients from $SLOW_CLIENT_ADDR (see the top of $prog); last, as a Match block ends
# only with the file.
Match Address $SLOW_CLIENT_ADDR
  ForceCommand case \$SSH_ORIGINAL_COMMAND in *sshard-worker*|*SSHARD-*) sleep $SLOW_START_S; export CLUSTER_SLOW_START=$SLOW_START_S;; esac; eval "\$SSH_ORIGINAL_COMMAND"
EOF
}

# Starts host I's sshd (it daemonises and writes its pid file once listening).
# Does not wait: see wait_listening.
launch_host() {
  local i=$1 dir addr out
  dir=$(host_dir "$i")
  addr=$(host_addr "$i")
  if accepts_tcp "$addr"; then
    die "host $i: something already listens on $addr:$PORT (another cluster, in another DIR?); stop it first"
  fi
  if ! out=$("$SSHD" -t -f "$dir/sshd_config" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    die "host $i: sshd rejects $dir/sshd_config (sshd -t output above)"
  fi
  # Remember where this start's log lines begin, to spot a fatal error early.
  log_offsets[$i]=$(($(stat -c %s "$dir/sshd.log" 2>/dev/null || echo 0) + 1))
  if ! out=$("$SSHD" -f "$dir/sshd_config" -E "$dir/sshd.log" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    log_tail "$i"
    die "host $i: sshd failed to start"
  fi
}

# Waits until every host given accepts TCP connections; all hosts share one
# deadline of START_TIMEOUT_S. Fails early with the log when sshd logged a fatal
# error (for example "Cannot bind any address").
wait_listening() {
  local deadline=$(($(now_us) + START_TIMEOUT_S * 1000000)) i
  local -a pending=("$@")
  while ((${#pending[@]} > 0)); do
    local -a still=()
    for i in "${pending[@]}"; do
      if accepts_tcp "$(host_addr "$i")"; then
        continue
      fi
      # grep without -q: with pipefail, tail's SIGPIPE would hide the match.
      if tail -c "+${log_offsets[$i]:-1}" "$(host_dir "$i")/sshd.log" 2>/dev/null |
        grep -E 'fatal|Cannot bind any address' >/dev/null; then
        log_tail "$i"
        die "host $i: sshd failed to start (see its log above)"
      fi
      still+=("$i")
    done
    pending=("${still[@]}")
    ((${#pending[@]} == 0)) && break
    if (($(now_us) >= deadline)); then
      log_tail "${pending[0]}"
      die "host(s) ${pending[*]}: not accepting connections on port $PORT after ${START_TIMEOUT_S}s"
    fi
    sleep 0.1
  done
  # The pid file comes right after listening; make sure it is there, so that
  # stop and kill-host can always find the listener.
  for i in "$@"; do
    local tries=0
    until listener_from_pidfile "$i"; do
      ((tries++ < 20)) || die "host $i: listens but $(host_dir "$i")/sshd.pid names no live sshd"
      sleep 0.1
    done
  done
}

write_client_files() {
  local n=$1 i addr dir key
  : >"$cluster/known_hosts.tmp"
  : >"$cluster/ssh_config.tmp"
  : >"$cluster/hosts.tmp"
  for ((i = 1; i <= n; i++)); do
    addr=$(host_addr "$i")
    dir=$(host_dir "$i")
    # The .pub file is "type key comment": keep type and key.
    read -r -a key <"$dir/ssh_host_ed25519_key.pub"
    printf '[%s]:%d %s %s\n' "$addr" "$PORT" "${key[0]}" "${key[1]}" >>"$cluster/known_hosts.tmp"
    cat >>"$cluster/ssh_config.tmp" <<EOF
Host node$i
  HostName $addr
  Port $PORT
  User $TEST_USER
  IdentityFile $cluster/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $cluster/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes

EOF
    printf 'node%d\n' "$i" >>"$cluster/hosts.tmp"
  done
  {
    printf '# Source this file: the sshard test cluster (written by %s).\n' "$prog"
    printf 'SSHARD_CLUSTER=%q\n' "$cluster"
    printf 'SSHARD_CLUSTER_N=%d\n' "$n"
    printf 'SSHARD_CLUSTER_PORT=%d\n' "$PORT"
    printf 'SSHARD_CLUSTER_USER=%q\n' "$TEST_USER"
    printf 'SSHARD_CLUSTER_KEY=%q\n' "$cluster/id_ed25519"
    printf 'SSHARD_CLUSTER_KNOWN_HOSTS=%q\n' "$cluster/known_hosts"
    printf 'SSHARD_CLUSTER_SSH_CONFIG=%q\n' "$cluster/ssh_config"
    printf 'SSHARD_CLUSTER_HOSTS=%q\n' "$cluster/hosts"
  } >"$cluster/env.tmp"
  local f
  for f in known_hosts ssh_config hosts env; do
    chmod 0600 "$cluster/$f.tmp"
    mv -f "$cluster/$f.tmp" "$cluster/$f"
  done
}

# --- commands ------------------------------------------------------------------

cmd_start() {
  local n=$1 i
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_HOSTS)); then
    die "N must be 1..$MAX_HOSTS, not '$n'"
  fi
  ((EUID == 0)) || die "must run as root (creates user $TEST_USER and starts sshd)"
  [[ -x $SSHD ]] || die "$SSHD is missing: install openssh-server (scripts/setup does)"
  command -v ssh-keygen >/dev/null || die "ssh-keygen is missing: install openssh-client (scripts/setup does)"

  if [[ -d $cluster ]]; then
    cmd_stop
  fi
  # Host directories of a previous, larger cluster would confuse stop and status.
  for i in $(existing_hosts); do
    if ((i > n)); then
      rm -rf "$(host_dir "$i")"
    fi
  done
  mkdir -p "$cluster"
  chmod 0700 "$cluster"
  # sshd's privilege-separation directory; Debian's service would create it.
  mkdir -p /run/sshd
  chmod 0755 /run/sshd

  # Fail before touching anything shared (the user's authorized_keys) if some
  # other cluster holds the addresses.
  for ((i = 1; i <= n; i++)); do
    if accepts_tcp "$(host_addr "$i")"; then
      die "something already listens on $(host_addr "$i"):$PORT (a cluster in another DIR?); stop it first"
    fi
  done

  # A start that fails half-way stops the hosts it did start.
  trap 'start_failed $?' EXIT

  ensure_key "$cluster/id_ed25519" "$TEST_USER@sshard-test-cluster"
  ensure_test_user
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$(host_dir "$i")"
    chmod 0700 "$(host_dir "$i")"
    ensure_key "$(host_dir "$i")/ssh_host_ed25519_key" "node$i"
    write_sshd_config "$i"
  done
  # env (with N) first, so that a failing start can still be stopped fully.
  write_client_files "$n"

  local -a all=()
  for ((i = 1; i <= n; i++)); do
    launch_host "$i"
    all+=("$i")
  done
  wait_listening "${all[@]}"
  trap - EXIT
  printf '%s: %d host(s) up on 127.0.0.11..%s port %d; ssh -F %s node1\n' \
    "$prog" "$n" "$(host_addr "$n")" "$PORT" "$cluster/ssh_config"
}

# EXIT trap of start: stops the cluster when start exits with STATUS non-zero.
start_failed() {
  if (($1 != 0)); then
    printf '%s: start failed; stopping the hosts of %s\n' "$prog" "$cluster" >&2
    cmd_stop || true
  fi
}

cmd_stop() {
  [[ -d $cluster ]] || return 0
  local -a hosts
  mapfile -t hosts < <(existing_hosts)
  stop_hosts graceful "${hosts[@]}"
  kill_test_user_processes
  remove_authorized_keys
}

# Takes this cluster's key out of the test user's ~/.ssh (other clusters keep theirs).
remove_authorized_keys() {
  local home
  home=$(getent passwd "$TEST_USER" | cut -d: -f6) || return 0
  [[ -n $home ]] || return 0
  rm -f -- "$home/.ssh/$(authorized_keys_name)"
}

cmd_status() {
  local n i
  n=$(cluster_size)
  for ((i = 1; i <= n; i++)); do
    if find_listener "$i" && proc_read "$lpid"; then
      if [[ $p_state == [Tt] ]]; then
        printf 'node%d paused\n' "$i"
      else
        printf 'node%d running\n' "$i"
      fi
    else
      printf 'node%d stopped\n' "$i"
    fi
  done
}

cmd_start_host() {
  local i=$1
  ((EUID == 0)) || die "must run as root"
  mkdir -p /run/sshd
  # Starting a host that still runs (or hangs) restarts it fresh.
  stop_hosts now "$i"
  launch_host "$i"
  wait_listening "$i"
}

# Sends SIGNAL to host I's listener and every process below it. STOP goes to the
# listener first, so it forks no new child meanwhile; the tree is walked twice to
# catch a child forked just before. CONT goes children first.
signal_host_tree() {
  local i=$1 sig=$2 pid
  local -a pids
  find_listener "$i" || die "host $i does not run"
  pid=$lpid
  tree_pids=()
  scan_procs
  add_tree "$pid"
  pids=("${tree_pids[@]}")
  if [[ $sig == STOP ]]; then
    signal_pids STOP "${pids[@]}"
    tree_pids=()
    scan_procs
    add_tree "$pid"
    signal_pids STOP "${tree_pids[@]}"
  else
    local j
    for ((j = ${#pids[@]} - 1; j >= 0; j--)); do
      signal_pids "$sig" "${pids[j]}"
    done
  fi
}

# --- main ----------------------------------------------------------------------

(($# >= 2)) || usage
command=$1
# Absolute, because sshd needs absolute paths in its config and re-executes itself.
cluster=$(realpath -m -- "$2")
# sshd_config takes paths without quotes.
[[ $cluster != *[[:space:]]* ]] || die "DIR must not contain white space: '$cluster'"
declare -A log_offsets=()
if [[ $command != start && -f $cluster/env ]]; then
  PORT=$(sed -n 's/^SSHARD_CLUSTER_PORT=//p' "$cluster/env")
else
  PORT=${SSHARD_CLUSTER_PORT:-22022}
fi
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
  die "bad port '$PORT' (SSHARD_CLUSTER_PORT)"
fi
readonly PORT

case $command in
  start)
    (($# == 3)) || usage
    cmd_start "$3"
    ;;
  stop)
    (($# == 2)) || usage
    cmd_stop
    ;;
  status)
    (($# == 2)) || usage
    cmd_status
    ;;
  kill-host | start-host | pause-host | resume-host)
    (($# == 3)) || usage
    check_host_arg "$3"
    case $command in
      kill-host) stop_hosts now "$3" ;;
      start-host) cmd_start_host "$3" ;;
      pause-host) signal_host_tree "$3" STOP ;;
      resume-host) signal_host_tree "$3" CONT ;;
    esac
    ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Smoke test of the OpenSSH test cluster that cluster.sh starts, with OpenSSH's
# own client: every host answers as sshard-test, host keys verify against the
# cluster's known_hosts (and a wrong or missing key is refused), and host 4 can
# be killed, started again, paused and resumed.
#
# Usage: cluster_smoke.sh DIR   (a cluster of at least 4 hosts started in DIR)
#
# Every ssh runs under timeout(1), so the whole script is bounded (about a
# minute at worst). On exit it leaves host 4 running, for other tests sharing
# the cluster.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
cluster_sh=$here/cluster.sh

(($# == 1)) || {
  echo "usage: $prog DIR" >&2
  exit 2
}
dir=$(realpath -m -- "$1")
[[ -r $dir/env ]] || {
  echo "$prog: no cluster in $dir (run cluster.sh start $dir 4 first)" >&2
  exit 1
}
# shellcheck source=/dev/null # written by cluster.sh start
source "$dir/env"
: "${SSHARD_CLUSTER_N:?}" "${SSHARD_CLUSTER_SSH_CONFIG:?}"
((SSHARD_CLUSTER_N >= 4)) || {
  echo "$prog: need at least 4 hosts, the cluster has $SSHARD_CLUSTER_N" >&2
  exit 1
}

passed=0
failed=0
scratch=$(mktemp -d)
bg_pid=""

# On any exit: stop a leftover background ssh, make sure host 4 runs again, and
# drop the scratch directory.
cleanup() {
  local rc=$?
  if [[ -n $bg_pid ]]; then
    kill "$bg_pid" 2>/dev/null || true
  fi
  case $("$cluster_sh" status "$dir" 2>/dev/null | sed -n 's/^node4 //p') in
    paused) "$cluster_sh" resume-host "$dir" 4 || true ;;
    stopped) "$cluster_sh" start-host "$dir" 4 || true ;;
    *) ;;
  esac
  rm -rf "$scratch"
  exit "$rc"
}
trap cleanup EXIT

ok() {
  passed=$((passed + 1))
  printf 'ok %d - %s\n' "$((passed + failed))" "$1"
}

# Fails the whole test: later steps depend on this one.
not_ok() {
  failed=$((failed + 1))
  printf 'not ok %d - %s\n' "$((passed + failed))" "$1"
  if [[ -s $scratch/err ]]; then
    sed 's/^/#   stderr: /' "$scratch/err"
  fi
  "$cluster_sh" status "$dir" | sed 's/^/#   status: /' || true
  printf '%s: %d passed, %d failed\n' "$prog" "$passed" "$failed"
  exit 1
}

now_ms() { date +%s%3N; }

# Runs OpenSSH's client against the cluster, bounded: ssh_node HOST [ssh args...].
# stdout goes to $scratch/out, stderr to $scratch/err; returns ssh's status
# (124 if timeout(1) had to stop it). Sets elapsed_ms.
elapsed_ms=0
ssh_node() {
  local t0 rc=0
  t0=$(now_ms)
  timeout 20 ssh -F "$SSHARD_CLUSTER_SSH_CONFIG" "$@" >"$scratch/out" 2>"$scratch/err" </dev/null || rc=$?
  elapsed_ms=$(($(now_ms) - t0))
  return "$rc"
}

expect_status() {
  local want=$1 got
  got=$("$cluster_sh" status "$dir" | sed -n 's/^node4 //p')
  if [[ $got == "$want" ]]; then ok "status says node4 $want"; else not_ok "status says node4 '$got', want '$want'"; fi
}

# 1. Every host answers as the test user, its key checked against known_hosts.
for ((i = 1; i <= SSHARD_CLUSTER_N; i++)); do
  if ssh_node -o ConnectTimeout=5 "node$i" 'echo ok; id -un' &&
    [[ $(<"$scratch/out") == $'ok\nsshard-test' ]]; then
    ok "node$i answers 'echo ok' as sshard-test"
  else
    not_ok "node$i answers 'echo ok' as sshard-test (got: $(tr '\n' ' ' <"$scratch/out"))"
  fi
done

# 2. Host keys really are checked: the known_hosts entry is the host's own key,
# and with another host's key or no key at all, StrictHostKeyChecking refuses.
if ssh-keygen -F "[127.0.0.11]:$SSHARD_CLUSTER_PORT" -f "$SSHARD_CLUSTER_KNOWN_HOSTS" |
  grep -qF "$(cut -d' ' -f2 "$SSHARD_CLUSTER/host1/ssh_host_ed25519_key.pub")"; then
  ok "known_hosts holds node1's own host key"
else
  not_ok "known_hosts holds node1's own host key"
fi
# node2's key recorded under node1's address: a changed host key.
sed -n "2s/^[^ ]*/[127.0.0.11]:$SSHARD_CLUSTER_PORT/p" "$SSHARD_CLUSTER_KNOWN_HOSTS" >"$scratch/wrong_known_hosts"
if ! ssh_node -o ConnectTimeout=5 -o UserKnownHostsFile="$scratch/wrong_known_hosts" node1 true &&
  grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' "$scratch/err"; then
  ok "node1 with a wrong known host key is refused"
else
  not_ok "node1 with a wrong known host key is refused"
fi
: >"$scratch/empty_known_hosts"
if ! ssh_node -o ConnectTimeout=5 -o UserKnownHostsFile="$scratch/empty_known_hosts" node1 true &&
  grep -q 'Host key verification failed' "$scratch/err"; then
  ok "node1 with no known host key is refused"
else
  not_ok "node1 with no known host key is refused"
fi

# 3. kill-host takes the machine down with its sessions: an open session ends,
# and a new connection is refused at once.
timeout 20 ssh -F "$SSHARD_CLUSTER_SSH_CONFIG" node4 'echo started; exec sleep 59' >"$scratch/bg_out" 2>/dev/null </dev/null &
bg_pid=$!
for _ in $(seq 50); do
  [[ -s $scratch/bg_out ]] && break
  sleep 0.1
done
[[ -s $scratch/bg_out ]] || not_ok "a session on node4 starts"
"$cluster_sh" kill-host "$dir" 4
expect_status stopped
bg_rc=0
wait "$bg_pid" || bg_rc=$?
bg_pid=""
if ((bg_rc != 0 && bg_rc != 124)); then
  ok "the open session on node4 ended with kill-host (ssh status $bg_rc)"
else
  not_ok "the open session on node4 ended with kill-host (ssh status $bg_rc)"
fi
if ! pgrep -u sshard-test -f 'sleep 59' >/dev/null; then
  ok "no session process of node4 is left"
else
  not_ok "no session process of node4 is left"
fi
if ! ssh_node -o ConnectTimeout=3 node4 true && grep -q 'Connection refused' "$scratch/err" &&
  ((elapsed_ms < 3000)); then
  ok "node4 is refused after kill-host, in ${elapsed_ms} ms"
else
  not_ok "node4 is refused fast after kill-host (${elapsed_ms} ms)"
fi
if ssh_node -o ConnectTimeout=5 node1 true; then
  ok "node1 still works while node4 is down"
else
  not_ok "node1 still works while node4 is down"
fi

# 4. start-host brings it back with the same key (known_hosts still matches).
"$cluster_sh" start-host "$dir" 4
expect_status running
if ssh_node -o ConnectTimeout=5 node4 'echo ok' && [[ $(<"$scratch/out") == ok ]]; then
  ok "node4 works again after start-host"
else
  not_ok "node4 works again after start-host"
fi

# 5. pause-host: the machine hangs; TCP still connects (the kernel accepts) but
# no banner ever comes, so ssh gives up on its ConnectTimeout.
"$cluster_sh" pause-host "$dir" 4
expect_status paused
if ! ssh_node -o ConnectTimeout=2 node4 true && grep -qi 'timed out' "$scratch/err" &&
  ((elapsed_ms >= 1900 && elapsed_ms < 10000)); then
  ok "node4 times out while paused, after ${elapsed_ms} ms"
else
  not_ok "node4 times out while paused (${elapsed_ms} ms)"
fi

# 6. resume-host: it answers again.
"$cluster_sh" resume-host "$dir" 4
expect_status running
if ssh_node -o ConnectTimeout=5 node4 'echo ok' && [[ $(<"$scratch/out") == ok ]]; then
  ok "node4 works again after resume-host"
else
  not_ok "node4 works again after resume-host"
fi

printf '%s: %d passed, %d failed\n' "$prog" "$passed" "$failed"

#!/usr/bin/env bash
# Runs `mpirun -np 2 COMMAND...` on two simulated machines: two network namespaces joined by a veth pair, one rank in
# each, talking over TCP only. Open MPI sees a hostfile of two IP addresses and starts the remote daemon with a small
# "ssh" (its `plm_rsh_agent`) that runs the daemon in the namespace of the address it is given.
#
#   Scripts/mpirun-two-hosts.sh [--timeout SECONDS] COMMAND [ARGS...]
#
# Needs root and iproute2 (`ip netns`). Exit status: the command's (via mpirun); 77 when the namespaces cannot be made
# (not root, no `ip netns`: a message on stderr says which); 124 when the run exceeds the timeout (default 120 s).
# The namespaces, the veth pair and the temporary files are removed on every exit (trap).
set -u

timeout_s=120
if [ "${1:-}" = "--timeout" ]; then timeout_s=$2; shift 2; fi
if [ $# -eq 0 ]; then echo "usage: $0 [--timeout SECONDS] COMMAND [ARGS...]" >&2; exit 2; fi

skip() { echo "mpirun-two-hosts: SKIPPED: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root (network namespaces need root)"
command -v ip >/dev/null 2>&1 || skip "iproute2's ip is not installed"
command -v mpirun >/dev/null 2>&1 || skip "mpirun is not installed (make deps installs openmpi-bin)"

# Names unique to this run, so parallel runs and leftovers of a killed run do not collide. Interface names must stay
# under 16 characters.
tag=$$
ns_a=nabla-a-$tag ns_b=nabla-b-$tag
veth_a=nva$tag veth_b=nvb$tag
octet=$(( tag % 250 + 1 ))
ip_a=10.231.$octet.1 ip_b=10.231.$octet.2
work=$(mktemp -d)

cleanup() {
    ip netns pids "$ns_a" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns pids "$ns_b" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns_a" 2>/dev/null
    ip netns del "$ns_b" 2>/dev/null   # deleting a namespace deletes its end of the veth pair, and so the pair
    ip link del "$veth_a" 2>/dev/null
    rm -rf "$work"
}
child=
trap cleanup EXIT
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; exit 130' INT TERM HUP

ip netns add "$ns_a" 2>"$work/err" || skip "ip netns add failed: $(cat "$work/err")"
ip netns add "$ns_b" 2>"$work/err" || skip "ip netns add failed: $(cat "$work/err")"
ip link add "$veth_a" type veth peer name "$veth_b" 2>"$work/err" || skip "cannot create a veth pair: $(cat "$work/err")"
ip link set "$veth_a" netns "$ns_a" && ip link set "$veth_b" netns "$ns_b" || skip "cannot move the veth ends into the namespaces"
for side in a b; do
    ns=ns_$side veth=veth_$side addr=ip_$side
    ip -n "${!ns}" link set lo up
    ip -n "${!ns}" addr add "${!addr}/24" dev "${!veth}"
    ip -n "${!ns}" link set "${!veth}" up
done
# (no reachability probe: ping may not be installed; mpirun reports an unreachable daemon itself)

# The "ssh" Open MPI calls as `agent HOST COMMAND...`: runs COMMAND in HOST's namespace (with its own host name, as
# on another machine).
cat >"$work/agent" <<EOF
#!/bin/sh
host=\$1; shift
case "\$host" in
  $ip_a) ns=$ns_a name=nabla-host-a ;;
  $ip_b) ns=$ns_b name=nabla-host-b ;;
  *) echo "mpirun-two-hosts agent: unknown host \$host" >&2; exit 255 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$name; \$*"
EOF
chmod +x "$work/agent"
printf '%s slots=1\n%s slots=1\n' "$ip_a" "$ip_b" >"$work/hostfile"

# mpirun itself runs in the first namespace (so the first address is its own machine) and reaches the second over
# the veth pair; ranks use TCP on the veth subnet only (no shared memory between the "machines").
ip netns exec "$ns_a" unshare --uts sh -c 'hostname nabla-host-a; exec "$@"' mpirun-two-hosts \
    timeout -k 5 "$timeout_s" mpirun --allow-run-as-root -np 2 --hostfile "$work/hostfile" \
    --mca plm_rsh_agent "$work/agent" \
    --mca btl tcp,self --mca btl_tcp_if_include "$ip_a/24" --mca oob_tcp_if_include "$ip_a/24" \
    --mca btl_vader_single_copy_mechanism none --mca orte_tmpdir_base "$work" \
    "$@" &
child=$!
wait "$child"   # in the background and waited for, so a signal to this script runs the cleanup at once
status=$?
[ $status -eq 124 ] && echo "mpirun-two-hosts: the run exceeded $timeout_s s" >&2
exit $status

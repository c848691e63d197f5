#!/usr/bin/env bash
# Shows that `fuelplan sim serve` speaks OpenStack well enough for the real
# openstack CLI (Debian's python3-openstackclient): builds fuelplan, serves
# the simulated cloud on a free loopback port, writes the clouds.yaml it
# prints, runs a few openstack commands and checks their output, then stops
# the server with Ctrl-C (SIGINT) and checks the state file it saved.
#
#   scripts/sim-openstackclient.sh              # needs /usr/bin/openstack
#   FUELPLAN=bin/fuelplan scripts/sim-openstackclient.sh   # a binary already built
#
# /usr/bin/openstack is used on purpose: the machine's python3 may be a
# pyenv copy without the OpenStack libraries.
set -euo pipefail
cd "$(dirname "$0")/.."

openstack=${OPENSTACK:-/usr/bin/openstack}
if [ ! -x "$openstack" ]; then
  echo "sim-openstackclient: $openstack missing; apt-get install -y python3-openstackclient" >&2
  exit 1
fi

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "sim-openstackclient: FAIL: $*" >&2
  echo "--- fuelplan sim serve stderr:" >&2
  cat "$work/serve.err" >&2 || true
  exit 1
}

fuelplan=${FUELPLAN:-}
if [ -z "$fuelplan" ]; then
  fuelplan="$work/fuelplan"
  go build -o "$fuelplan" ./cmd/fuelplan
fi
"$fuelplan" sim serve --state "$work/state.json" >"$work/clouds.yaml" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 100); do
  grep -q serving "$work/serve.err" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "fuelplan sim serve exited"
  sleep 0.1
done
grep -q serving "$work/serve.err" || fail "not serving after 10s"

# Only the clouds.yaml decides where the CLI goes.
unset $(env | grep -o '^OS_[A-Z_]*' || true)
export OS_CLIENT_CONFIG_FILE="$work/clouds.yaml" no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

# os CLOUD ARGS...: runs the openstack CLI, failing the script on error.
os() {
  local cloud=$1
  shift
  "$openstack" --os-cloud "$cloud" "$@" 2>"$work/os.err" || fail "openstack --os-cloud $cloud $*: $(cat "$work/os.err")"
}

# expect WHAT WANT GOT: GOT must contain the line WANT.
expect() {
  grep -qxF -- "$2" <<<"$3" || fail "$1: want a line \"$2\", got: $3"
  echo "ok: $1"
}

expect "demo sees net04_ext" "net04_ext" "$(os fuelplan-sim-demo network list -f value -c Name)"
expect "network create x" "x" "$(os fuelplan-sim-demo network create x -f value -c name)"
expect "network list shows x" "x" "$(os fuelplan-sim-demo network list -f value -c Name)"
expect "admin sees x" "x" "$(os fuelplan-sim network list -f value -c Name)"
servers=$(os fuelplan-sim-demo server list -f value -c Name)
[ -z "$servers" ] || fail "server list: want no servers, got: $servers"
echo "ok: server list (empty)"
expect "flavor list" "m1.small" "$(os fuelplan-sim-demo flavor list -f value -c Name)"
expect "image list" "cirros" "$(os fuelplan-sim-demo image list -f value -c Name)"

# A server on a pre-made port, as fuelplan builds them: Nova binds the port
# on one of the world's hypervisors, which only admin sees.
os fuelplan-sim-demo subnet create --network x --subnet-range 10.20.0.0/24 x-subnet -f value -c id >/dev/null
os fuelplan-sim-demo port create --network x x-port -f value -c id >/dev/null
expect "server create" "vm1" "$(os fuelplan-sim-demo server create --flavor m1.tiny --image cirros --port x-port --wait vm1 -f value -c name)"
expect "server list shows vm1 ACTIVE" "vm1 ACTIVE" "$(os fuelplan-sim-demo server list -f value -c Name -c Status)"
hosts=$(os fuelplan-sim server list --all-projects --long -f value -c Name -c Host)
grep -qE '^vm1 node-[1-5]( |$)' <<<"$hosts" || fail "admin server list: want vm1 on node-1..5, got: $hosts"
echo "ok: admin sees vm1's host"

kill -INT "$pid"
wait "$pid" || fail "fuelplan sim serve exited with $? on SIGINT"
pid=
grep -q '"name": "x"' "$work/state.json" || fail "state file lacks network x"
echo "ok: state saved on exit"
echo "sim-openstackclient: PASS"

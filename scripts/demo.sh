#!/usr/bin/env bash
# The Fuel lab of examples/fuel-lab.yaml built and torn down on the
# simulated cloud: copies the example into a temporary folder with small
# stand-in ISO files and SSH key files, then runs apply, a second plan that
# must find nothing to do (exit 0 with --detailed-exitcode), and destroy,
# printing each step. The waits run too: the simulated cloud plays the
# Fuel master (its API, and the slaves it discovers through the DHCP
# patch; see docs/simulated-fuel.md); their intervals are cut to 1 s here,
# as the simulated Fuel takes seconds where a real one takes minutes.
#
#   scripts/demo.sh                       # builds bin/fuelplan first
#   FUELPLAN=bin/fuelplan scripts/demo.sh # a binary already built
set -euo pipefail
cd "$(dirname "$0")/.."

fuelplan=${FUELPLAN:-}
if [ -z "$fuelplan" ]; then
  go build -o bin/fuelplan ./cmd/fuelplan
  fuelplan=bin/fuelplan
fi
fuelplan=$(cd "$(dirname "$fuelplan")" && pwd)/$(basename "$fuelplan")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's/^    interval: 30s$/    interval: 1s/' -e 's/^    timeout: 30m$/    timeout: 1m\n    interval: 1s/' \
  examples/fuel-lab.yaml >"$work/fuel-lab.yaml"
grep -q '^    interval: 1s$' "$work/fuel-lab.yaml" || { echo "demo: examples/fuel-lab.yaml changed: no wait interval to shorten" >&2; exit 1; }
mkdir -p "$work/images" "$work/keys"
# Stand-ins: Glance keeps only size and checksum, so a few bytes will do.
printf 'stand-in for MirantisOpenStack-6.1.iso\n' >"$work/images/MirantisOpenStack-6.1.iso"
printf 'stand-in for ipxe.iso\n' >"$work/images/ipxe.iso"
printf 'not a key: the simulated cloud has no compute nodes to reach\n' >"$work/keys/compute"
printf '10.0.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n' >"$work/keys/known_hosts"
chmod 600 "$work/keys/compute"

step() {
  echo
  echo "== fuelplan $*"
  "$fuelplan" "$@"
}

cd "$work"
step apply fuel-lab.yaml --cloud sim --auto-approve --no-color
step plan fuel-lab.yaml --cloud sim --detailed-exitcode --no-color
step destroy fuel-lab.yaml --cloud sim --auto-approve --no-color
echo
echo "demo: OK (apply with Fuel's API up and the slaves discovered, empty second plan, destroy)"

#!/usr/bin/env bash
# The Fuel lab of examples/fuel-lab.yaml built and torn down on the
# simulated cloud: copies the example into a temporary folder with small
# stand-in ISO files and SSH key files, then runs apply, a second plan that
# must find nothing to do (exit 0 with --detailed-exitcode), and destroy,
# printing each step. Waits are skipped: no Fuel master answers on the
# simulated cloud (see docs/boot.md for how they are tested).
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
cp examples/fuel-lab.yaml "$work/"
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
step apply fuel-lab.yaml --cloud sim --auto-approve --skip-waits --no-color
step plan fuel-lab.yaml --cloud sim --detailed-exitcode --no-color
step destroy fuel-lab.yaml --cloud sim --auto-approve --no-color
echo
echo "demo: OK (apply, empty second plan, destroy)"

// Package e2e is fuelplan's end-to-end suite: one list of scenarios (a
// scaled-down Fuel lab planned, applied and destroyed; the same as a
// member; drift; an unowned name; port security off; updates and
// replaces; an interrupted apply) run through the engine and the real
// gophercloud client against a cloud, each ending with the cloud as it
// was before.
//
// `go test ./e2e` runs the scenarios against fuelplan's simulated cloud.
// With FUELPLAN_E2E=1 the same scenarios also run against the cloud
// named by OS_CLOUD (clouds.yaml found as the openstack CLI finds it,
// or OS_CLIENT_CONFIG_FILE), as Terraform's acceptance tests do with
// TF_ACC; `make e2e-real` does that against ../shared/realcloud. A
// difference between the simulator and the real services then shows up
// as a failing test. See README.md, "End-to-end suite".
//
// The package holds tests only.
package e2e

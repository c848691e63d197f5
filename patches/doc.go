// Package patches holds what fuelplan does to the host cloud's compute
// nodes, as plain logic with no SSH or API client: the Neutron iptables
// chain a port's egress rules live in, reading `iptables -S` and finding
// the rule that drops the DHCP replies a Fuel master sends, the commands
// that remove it, and which method a patch takes. Package resources runs
// it (patch.go) over internal/sshx or the Neutron API.
package patches

package patches_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/internal/sshx/sshtest"
	"github.com/fuelplan/fuelplan/patches"
	"github.com/fuelplan/fuelplan/simcloud"
)

// seedAgentChain writes a port's egress chain into a node's iptables the
// way the OVS hybrid agent does (comments and all), DROP rule included.
func seedAgentChain(t *testing.T, nd *sshtest.Node, portID string) {
	t.Helper()
	for _, args := range agentChain(portID) {
		nd.Exec(t, args...)
	}
}

// agentChain is the iptables commands that write a port's chain.
func agentChain(portID string) [][]string {
	chain := patches.ChainName(portID)
	cmds := [][]string{{"iptables", "-w", "-N", chain}}
	for _, rule := range [][]string{
		{"-s", "0.0.0.0/32", "-d", "255.255.255.255/32", "-p", "udp", "-m", "udp", "--sport", "68", "--dport", "67", "-m", "comment", "--comment", "Allow DHCP client traffic.", "-j", "RETURN"},
		{"-p", "udp", "-m", "udp", "--sport", "68", "--dport", "67", "-m", "comment", "--comment", "Allow DHCP client traffic.", "-j", "RETURN"},
		{"-p", "udp", "-m", "udp", "--sport", "67", "--dport", "68", "-m", "comment", "--comment", "Prevent DHCP Spoofing by VM.", "-j", "DROP"},
		{"-m", "state", "--state", "RELATED,ESTABLISHED", "-j", "RETURN"},
		{"-m", "state", "--state", "INVALID", "-j", "DROP"},
	} {
		cmds = append(cmds, append([]string{"iptables", "-w", "-A", chain}, rule...))
	}
	return cmds
}

// agentResync puts the DROP rule back, as the agent does on a full resync.
func agentResync(t *testing.T, nd *sshtest.Node, portID string) {
	t.Helper()
	nd.Exec(t, "iptables", "-w", "-I", patches.ChainName(portID), "3", "-p", "udp", "-m", "udp", "--sport", "67", "--dport", "68",
		"-m", "comment", "--comment", "Prevent DHCP Spoofing by VM.", "-j", "DROP")
}

func dropCount(t *testing.T, nd *sshtest.Node, portID string) int {
	t.Helper()
	return strings.Count(nd.Exec(t, "iptables", "-w", "-S", patches.ChainName(portID)), "--sport 67 --dport 68")
}

// The whole allow-dhcp-server story over real SSH and real iptables: one
// namespace per simulated compute node, each running sshd; the simulated
// cloud places the servers on those nodes and says so to its admin.
func TestAllowDHCPOverSSH(t *testing.T) {
	sshtest.Require(t)
	hvs := []string{"node-1", "node-2", "node-3"}
	n := sshtest.New(t, hvs...)
	w := simcloud.DefaultWorld()
	w.Hypervisors = hvs
	e := newEnv(t, sshx.Config{Dial: n.Dial, ConnectTimeout: 3 * time.Second, CommandTimeout: 10 * time.Second, AgentSocket: "/nonexistent"}, w)

	var inv strings.Builder
	inv.WriteString("inventory:\n")
	for _, hv := range hvs {
		fmt.Fprintf(&inv, "  %s: {address: %q, user: root, key_file: %s, known_hosts: %s}\n", hv, n.Node(hv).Address, n.KeyFile, n.KnownHosts)
	}
	lab := e.lab(`patches:
  - name: master-dhcp
    type: allow-dhcp-server
    port: master.admin
    method: ssh
  - name: slave-dhcp
    type: allow-dhcp-server
    port: slave-01.admin
    method: ssh
` + inv.String())

	// Build the lab first, as the agent wires ports only once they exist.
	e.mustApply(lab, engine.PlanOptions{Excludes: []string{"patch"}})
	_, st := e.mustPlan(lab, engine.PlanOptions{})
	master := e.port(st, "port.master.admin")
	slave := e.port(st, "port.slave-01.admin")
	other := e.port(st, "port.slave-02.admin")
	if master.HostID == "" || master.HostID == slave.HostID {
		t.Fatalf("want master and slave-01 on different nodes, got %q and %q", master.HostID, slave.HostID)
	}
	for _, p := range []portInfo{master, slave, other} {
		seedAgentChain(t, n.Node(p.HostID), p.ID)
	}
	masterNode, slaveNode := n.Node(master.HostID), n.Node(slave.HostID)

	// The plan reads each chain over SSH: needed, on the right node only.
	p, _ := e.mustPlan(lab, engine.PlanOptions{})
	want := []string{
		fmt.Sprintf("~ patch.master-dhcp state: needed: ssh (method ssh) on %s; 1 DHCP DROP rule(s) in %s -> in place", master.HostID, patches.ChainName(master.ID)),
		fmt.Sprintf("~ patch.slave-dhcp state: needed: ssh (method ssh) on %s; 1 DHCP DROP rule(s) in %s -> in place", slave.HostID, patches.ChainName(slave.ID)),
	}
	if got := changes(p); !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Apply removes the rules, and only them.
	e.mustApply(lab, engine.PlanOptions{})
	if got := dropCount(t, masterNode, master.ID); got != 0 {
		t.Errorf("master chain: %d DROP rules after apply, want 0", got)
	}
	if got := dropCount(t, n.Node(other.HostID), other.ID); got != 1 {
		t.Errorf("slave-02's chain (no patch): %d DROP rules, want 1 (untouched)", got)
	}
	if p, _ := e.mustPlan(lab, engine.PlanOptions{}); len(p.Changes) != 0 {
		t.Fatalf("plan after apply: %v", changes(p))
	}

	// The agent resyncs and puts the rule back: the plan shows drift.
	agentResync(t, masterNode, master.ID)
	p, _ = e.mustPlan(lab, engine.PlanOptions{})
	if got := changes(p); len(got) != 1 || !strings.HasPrefix(got[0], "~ patch.master-dhcp state: needed: ssh (method ssh) on "+master.HostID) {
		t.Fatalf("plan after resync: %v", got)
	}

	// Apply waits for the agent to wire a port it has just bound: the
	// chain is gone at plan time and written a moment into the apply.
	masterNode.Exec(t, "iptables", "-w", "-F", patches.ChainName(master.ID))
	masterNode.Exec(t, "iptables", "-w", "-X", patches.ChainName(master.ID))
	p, _ = e.mustPlan(lab, engine.PlanOptions{})
	if got := changes(p); len(got) != 1 || !strings.Contains(got[0], "no chain "+patches.ChainName(master.ID)+": the port is not on this hypervisor, or its agent has not wired it yet") {
		t.Fatalf("plan without the chain: %v", got)
	}
	rewired := make(chan error, 1)
	go func() {
		time.Sleep(700 * time.Millisecond)
		for _, args := range agentChain(master.ID) {
			if out, err := masterNode.Command(args...).CombinedOutput(); err != nil {
				rewired <- fmt.Errorf("%v: %v: %s", args, err, out)
				return
			}
		}
		rewired <- nil
	}()
	e.mustApply(lab, engine.PlanOptions{})
	if err := <-rewired; err != nil {
		t.Fatalf("agent: %v", err)
	}
	if got := dropCount(t, masterNode, master.ID); got != 0 {
		t.Errorf("master chain rewired by the agent: %d DROP rules after apply, want 0", got)
	}

	// An unreachable node fails only its own patch.
	agentResync(t, masterNode, master.ID)
	agentResync(t, slaveNode, slave.ID)
	slaveNode.Stop()
	p, _ = e.mustPlan(lab, engine.PlanOptions{})
	got := changes(p)
	if len(got) != 2 || !strings.Contains(got[1], "patch.slave-dhcp state: unknown: ssh (method ssh): "+slave.HostID) || !strings.Contains(got[1], "connection refused") {
		t.Fatalf("plan with %s down: %v", slave.HostID, got)
	}
	rep, _ := e.apply(lab, engine.PlanOptions{})
	for op, err := range rep.Results {
		switch op.Address {
		case "patch.master-dhcp":
			if err != nil {
				t.Errorf("master-dhcp failed with slave's node down: %v", err)
			}
		case "patch.slave-dhcp":
			if err == nil || !strings.Contains(err.Error(), slave.HostID) || !strings.Contains(err.Error(), "connect") {
				t.Errorf("slave-dhcp: err = %v, want a connect error naming %s", err, slave.HostID)
			}
		}
	}
	if got := dropCount(t, masterNode, master.ID); got != 0 {
		t.Errorf("master chain: %d DROP rules, want 0", got)
	}

	// A host key that does not match known_hosts fails the plan, clearly.
	n.ReplaceHostKey(t, master.HostID)
	e.newRun()
	_, _, err := e.plan(lab, engine.PlanOptions{})
	var hk *sshx.HostKeyError
	if !errors.As(err, &hk) || !hk.Changed || !strings.Contains(err.Error(), "patch.master-dhcp") || !strings.Contains(err.Error(), master.HostID) || !strings.Contains(err.Error(), "HOST KEY CHANGED") {
		t.Fatalf("plan with a changed host key: err = %v", err)
	}
}

// A command patch runs its check on every host, and its apply where the
// check fails; the commands run inside each node (its own iptables).
func TestCommandPatchOverSSH(t *testing.T) {
	sshtest.Require(t)
	hvs := []string{"node-1", "node-2"}
	n := sshtest.New(t, hvs...)
	w := simcloud.DefaultWorld()
	w.Hypervisors = hvs
	e := newEnv(t, sshx.Config{Dial: n.Dial, ConnectTimeout: 3 * time.Second, CommandTimeout: 10 * time.Second, AgentSocket: "/nonexistent"}, w)
	var inv strings.Builder
	inv.WriteString("inventory:\n")
	for _, hv := range hvs {
		fmt.Fprintf(&inv, "  %s: {address: %q, user: root, key_file: %s, known_hosts: %s}\n", hv, n.Node(hv).Address, n.KeyFile, n.KnownHosts)
	}
	rule := "INPUT -p udp --dport 69 -j ACCEPT" // TFTP for PXE, say
	lab := e.lab(`patches:
  - name: tftp
    type: command
    hosts: [node-1, node-2]
    check: iptables -w -C ` + rule + `
    apply: iptables -w -A ` + rule + `
` + inv.String())
	n.Node("node-2").Exec(t, strings.Fields("iptables -w -A "+rule)...)

	p, _ := e.mustPlan(lab, engine.PlanOptions{Targets: []string{"patch.tftp"}})
	want := []string{"~ patch.tftp state.node-1: needed: check command exited 1 on node-1 -> in place"}
	if got := changes(p); !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	e.mustApply(lab, engine.PlanOptions{Targets: []string{"patch.tftp"}})
	for _, hv := range hvs {
		if got := strings.Count(n.Node(hv).Exec(t, "iptables", "-w", "-S", "INPUT"), "--dport 69"); got != 1 {
			t.Errorf("%s: %d TFTP rules, want 1", hv, got)
		}
	}
	if p, _ := e.mustPlan(lab, engine.PlanOptions{Targets: []string{"patch.tftp"}}); len(p.Changes) != 0 {
		t.Errorf("plan after apply: %v", changes(p))
	}
}

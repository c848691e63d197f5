package patches

// Methods of an allow-dhcp-server patch.
const (
	// API turns port security off on the port, which removes its
	// security groups and every iptables rule the agent keeps for it.
	API = "api"
	// SSH deletes the one DROP rule from the port's chain on its compute
	// node; the agent puts it back on its next full resync.
	SSH = "ssh"
	// Auto is API where Neutron has the port-security extension, else SSH.
	Auto = "auto"
)

// Choice is the method a patch takes and why, as the plan prints it.
type Choice struct {
	Method string
	Reason string
}

// Choose resolves a patch's method. hasPortSecurity says whether Neutron
// has the port-security extension. Choose is the one place the decision
// is made: the patch adapter and the port adapter both ask it, so a port
// whose security an api patch turns off is not put back by the next plan.
func Choose(method string, hasPortSecurity bool) Choice {
	switch method {
	case API:
		if !hasPortSecurity {
			return Choice{API, "method api, but Neutron has no port-security extension: the patch will fail"}
		}
		return Choice{API, "method api"}
	case SSH:
		return Choice{SSH, "method ssh"}
	default:
		if hasPortSecurity {
			return Choice{API, "auto: Neutron has the port-security extension"}
		}
		return Choice{SSH, "auto: Neutron has no port-security extension"}
	}
}

package specs

import "testing"

// Values from the environment are masked wherever they land, and only
// they: a whole reference is matched as a whole value or list item (a
// short secret such as "admin" must not mask "fuel-admin"), a string with
// text around its references anywhere; a default written in the spec is
// not a secret.
func TestFromEnv(t *testing.T) {
	spec := `apiVersion: fuelplan/v1
lab: env
networks:
  - name: admin
    cidr: 10.20.0.0/24
    description: "${env:DESC}"
  - name: public
    cidr: 10.30.0.0/24
    description: "lab of ${env:OWNER}"
  - name: mgmt
    cidr: 10.40.0.0/24
    description: "${env:UNSET:-a default}"
master:
  name: m
  flavor: f
  image: i
images:
  - {name: i, existing: true}
flavors:
  - {name: f, existing: true}
`
	env := map[string]string{"DESC": "admin", "OWNER": "alice"}
	s, diags := Parse("lab.yaml", []byte(spec), func(n string) (string, bool) { v, ok := env[n]; return v, ok })
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	lab, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v    string
		want bool
	}{
		{"admin", true},                  // the whole value of ${env:DESC}
		{"8.8.8.8,admin", true},          // one item of a list
		{"env-admin", false},             // a name that contains the word
		{"subnet.admin", false},          // an address
		{"lab of alice", true},           // the composite string
		{"notes: lab of alice ok", true}, // anywhere
		{"alice", false},                 // only the composite was from the environment
		{"a default", false},             // the spec's own default
		{"", false},
	}
	for _, tt := range tests {
		if got := lab.FromEnv(tt.v); got != tt.want {
			t.Errorf("FromEnv(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
	if !lab.MentionsEnv("check, run over SSH on node-1: curl -u admin http://x") {
		t.Error("MentionsEnv misses a whole value inside a command")
	}
}

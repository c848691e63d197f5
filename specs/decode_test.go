package specs

import (
	"strings"
	"testing"
)

// base is a valid spec; the tests append or replace lines of it.
const base = `apiVersion: fuelplan/v1
lab: t
networks: [{name: lan, cidr: 10.0.0.0/24}]
flavors: [{name: f, existing: true}]
images: [{name: i, existing: true}]
master: {flavor: f, image: i}
`

func TestDecode(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NAME": "from-env", "EMPTY": ""}
	tests := []struct {
		name string
		src  string
		want []string // substrings of the diagnostics, in order; none: valid
	}{
		{"valid", base, nil},
		{"env default", base + "cloud: ${env:UNSET:-dflt}\n", nil},
		{"env set but empty", base + "cloud: x${env:EMPTY}\n", nil},
		{"env missing", base + "cloud: ${env:UNSET}\n", []string{"t.yaml:7:8: cloud: environment variable UNSET is not set"}},
		{"env malformed", base + "cloud: ${env:1X}\n", []string{`cloud: malformed environment reference "${env:1X}"`}},
		{"alias", strings.Replace(base, "networks: [{name: lan, cidr: 10.0.0.0/24}]", "x-net: &n {name: lan, cidr: 10.0.0.0/24}\nnetworks: [*n]", 1),
			[]string{`x-net: unknown field`}},
		{"merge key", base + "router: {<<: {name: r}}\n", []string{"router: merge keys (<<) are not supported"}},
		{"duplicate key", base + "lab: u\n", []string{"t.yaml:7:1: lab: duplicate key"}},
		{"null required", strings.Replace(base, "lab: t", "lab:", 1), []string{"t.yaml:2:1: lab: missing value"}},
		{"empty", "", []string{"t.yaml:1:1: empty spec"}},
		{"comment only", "# nothing\n", []string{"t.yaml:1:1: empty spec"}},
		{"scalar doc", "hello\n", []string{"spec: expected a mapping"}},
		{"int not bool", base + "router: {external_gateway: 1}\n", []string{`router.external_gateway: expected true or false, got "1"`}},
		{"float not int", strings.Replace(base, "cidr: 10.0.0.0/24", "cidr: 10.0.0.0/24, mtu: 1500.5", 1), []string{`networks[0].mtu: expected an integer, got "1500.5"`}},
		{"typo at top level", base + "master2: x\n", []string{`master2: unknown field; did you mean "master"?`}},
		{"user data shorthand", strings.Replace(base, "image: i}", "image: i, user_data: \"#!/bin/sh\"}", 1), nil},
		{"deep nesting", base + "inventory: {h: " + strings.Repeat("{address: a, jump: ", 100) + "{address: b}" + strings.Repeat("}", 100) + "}\n",
			[]string{"too deeply nested"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, diags := Parse("t.yaml", []byte(tt.src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			got := diags.Error()
			if len(tt.want) == 0 {
				if s == nil || diags.HasErrors() {
					t.Fatalf("want valid, got:\n%s", got)
				}
				return
			}
			if s != nil {
				t.Fatalf("want errors %q, got a spec", tt.want)
			}
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("want %q in:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestEnvValues(t *testing.T) {
	t.Parallel()
	src := strings.Replace(base, "lab: t", "lab: t\ncloud: ${env:C:-fallback}", 1)
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "fallback"},
		{map[string]string{"C": "mine"}, "mine"},
	} {
		s, diags := Parse("t.yaml", []byte(src), func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
		if s == nil {
			t.Fatal(diags)
		}
		if s.Doc.Cloud.V != tt.want || !s.Doc.Cloud.FromEnv {
			t.Errorf("cloud = %q (from env %v), want %q", s.Doc.Cloud.V, s.Doc.Cloud.FromEnv, tt.want)
		}
	}
}

package jsonschema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/specs/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite docs/fuelplan.schema.json")

// The schema shipped in docs/ for editors is what Generate makes today.
func TestShippedSchemaIsCurrent(t *testing.T) {
	got, err := jsonschema.Generate()
	if err != nil {
		t.Fatal(err)
	}
	const shipped = "../../docs/fuelplan.schema.json"
	if *update {
		if err := os.WriteFile(shipped, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./specs/jsonschema -update", shipped)
	}
}

func compile(t *testing.T) *validator.Schema {
	t.Helper()
	b, err := jsonschema.Generate()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := validator.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := validator.NewCompiler()
	if err := c.AddResource("fuelplan.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("fuelplan.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile as draft 2020-12: %v", err)
	}
	return s
}

// instance reads a YAML spec as the YAML language server does: plain YAML
// values, then JSON.
func instance(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return validator.UnmarshalJSON(bytes.NewReader(j))
}

func TestSchemaAcceptsEveryExample(t *testing.T) {
	s := compile(t)
	files, _ := filepath.Glob("../../examples/*.yaml")
	more, _ := filepath.Glob("../../testdata/*.yaml")
	files = append(files, more...)
	if len(files) < 4 {
		t.Fatalf("found only %d specs", len(files))
	}
	for _, f := range files {
		inst, err := instance(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s: rejected by the schema: %v", f, err)
		}
	}
}

// schemaExpressible are the decoder's messages a JSON Schema can say too:
// unknown and missing fields, and values of the wrong shape. Other
// findings (overlapping CIDRs, references...) need validation proper.
var schemaExpressible = regexp.MustCompile(`unknown field|missing required field|unsupported version|expected (a mapping|a list|a string|an integer|true or false)|unknown (patch|wait) type|want (ingress or egress|IPv4 or IPv6|tcp, udp, icmp or any|auto, api or ssh|disk or cdrom|one of)`)

// yamlLevel are problems of the file before it is a spec.
var yamlLevel = regexp.MustCompile(`(?m)^\S+:\d+:\d+: (YAML syntax|a spec holds one YAML document)`)

// Every broken spec of testdata/invalid is rejected by the schema exactly
// when one of its errors is of a kind the schema can express: the schema
// neither misses what it could catch in the editor nor refuses a spec for
// a reason only validate knows.
func TestSchemaAgreesWithTheDecoder(t *testing.T) {
	s := compile(t)
	goldens, _ := filepath.Glob("../../testdata/invalid/*.golden")
	var rejected int
	for _, g := range goldens {
		spec := strings.TrimSuffix(g, ".golden") + ".yaml"
		if _, err := os.Stat(spec); err != nil {
			continue
		}
		want, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		if yamlLevel.Match(want) {
			continue // not a single YAML document: nothing for a schema to check
		}
		inst, err := instance(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		mustReject := schemaExpressible.Match(want)
		err = s.Validate(inst)
		switch {
		case mustReject && err == nil:
			t.Errorf("%s: the schema accepts it, but validate says:\n%s", spec, want)
		case !mustReject && err != nil:
			t.Errorf("%s: the schema rejects it (%v), though validate finds only:\n%s", spec, err, want)
		case err != nil:
			rejected++
		}
	}
	if rejected < 3 {
		t.Errorf("only %d invalid specs rejected by the schema; the test data lost its schema-level cases", rejected)
	}
}

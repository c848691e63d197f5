package specs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the decoder and validator. They must
// never panic, and whatever they accept must compile: validation is the
// only gate before Compile.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"../examples/*.yaml", "../testdata/invalid/*.yaml", "../testdata/fuel-warnings.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	env := func(name string) (string, bool) {
		if name == "SET" {
			return "x", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, diags := Parse("fuzz.yaml", data, env)
		if s == nil {
			if !diags.HasErrors() {
				t.Fatalf("nil spec without an error: %v", diags)
			}
			return
		}
		if diags.HasErrors() {
			t.Fatalf("spec returned with errors: %v", diags)
		}
		if _, err := Compile(s); err != nil {
			t.Fatalf("valid spec does not compile: %v", err)
		}
	})
}

package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Save writes the plan to path atomically (temp file, fsync, rename), so
// a crash never leaves half a plan to apply. Plans hold no secrets: every
// sensitive value was masked when the plan was built.
func Save(path string, p *Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	return nil
}

// Load reads a saved plan, refusing other formats and versions.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: not a fuelplan plan file: %w", path, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s: plan format version %q, this fuelplan reads %q", path, p.FormatVersion, FormatVersion)
	}
	return &p, nil
}

// IsPlanFile reports whether data looks like a saved plan (JSON object
// with a format_version), as opposed to a YAML spec.
func IsPlanFile(data []byte) bool {
	var probe struct {
		FormatVersion string `json:"format_version"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.FormatVersion != ""
}

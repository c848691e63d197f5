package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/fuelplan/fuelplan/internal/atomicfile"
	"github.com/fuelplan/fuelplan/specs"
)

// Save writes the plan to path atomically (temp file, fsync, rename), so
// a crash never leaves half a plan to apply. Plans hold no secrets: every
// sensitive value was masked when the plan was built.
func Save(path string, p *Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	return nil
}

// MaxSize bounds a plan file read back: a plan of a 4,096-slave lab is a
// few MB, so anything near this is not a plan.
const MaxSize = 64 << 20

// Load reads a saved plan, refusing other formats and versions. Its
// errors never quote the file.
func Load(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse decodes a saved plan and checks what apply relies on: the format
// version, known actions, addresses that parse.
func Parse(data []byte) (*Plan, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("damaged plan file: larger than %d bytes", MaxSize)
	}
	// The version first: an older format's fields may not decode.
	var probe struct {
		FormatVersion string `json:"format_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("damaged plan file (%s): make a new plan", jsonProblem(err))
	}
	if err := checkVersion(probe.FormatVersion); err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("damaged plan file (%s): make a new plan", jsonProblem(err))
	}
	for i, c := range p.Changes {
		if !slices.Contains(specs.Kinds, c.Address.Kind()) {
			return nil, fmt.Errorf("damaged plan file: changes[%d]: bad address", i)
		}
		if !c.Action.valid() {
			return nil, fmt.Errorf("damaged plan file: changes[%d]: bad action", i)
		}
	}
	return &p, nil
}

// checkVersion refuses a plan of another format. Version 1 is not
// migrated: it held unknown values and reasons as text, and a saved plan
// is cheap to make again, while guessing its meaning back is not safe.
func checkVersion(v string) error {
	switch v {
	case FormatVersion:
		return nil
	case "1":
		return fmt.Errorf("plan format version 1 was written by an older fuelplan; this fuelplan reads version %s: make the plan again (fuelplan plan --out)", FormatVersion)
	}
	return fmt.Errorf("plan format version %s, this fuelplan reads %q: use the fuelplan that made the plan, or make the plan again", quote(v), FormatVersion)
}

// jsonProblem says what is wrong without quoting the file: json's syntax
// errors give an offset; type errors name a field, never a value.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
		return "cut short"
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s holds a JSON %s", quote(te.Field), te.Value)
	}
	return "not a plan"
}

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// IsPlanFile reports whether data is meant as a saved plan (a JSON object
// naming a format_version) rather than a YAML spec. A plan cut short still
// counts, so that it is reported as a damaged plan, not as bad YAML.
func IsPlanFile(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{' && bytes.Contains(data[:min(len(data), 4096)], []byte(`"format_version"`))
}

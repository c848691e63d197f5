package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzParse reads arbitrary bytes as a saved plan. It never panics; what
// it accepts saves and reads back the same; its errors stay short (they
// never quote the file).
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../../testdata/plans/change.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"format_version": "2", "lab": "x", "spec_file": "lab.yaml", "changes": [{"address": "network.a", "action": "create", "fields": [{"name": "mtu", "after": "1400", "after_sha256": "00"}]}]}`))
	f.Add([]byte(`{"format_version": "2", "changes": [{"address": "network.a", "action": "explode"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if len(err.Error()) > 200 {
				t.Fatalf("a %d-byte error", len(err.Error()))
			}
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("an accepted plan does not save: %v", err)
		}
		q, err := Parse(again)
		if err != nil {
			t.Fatalf("a saved plan does not read back: %v", err)
		}
		// Compared as saved: an empty list and none save alike.
		if again2, _ := json.Marshal(q); !bytes.Equal(again, again2) {
			t.Fatalf("read back differs:\n%s\n%s", again, again2)
		}
	})
}

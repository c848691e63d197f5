package preflight

import "testing"

func TestHumanSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"}, {1023, "1023 bytes"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{3 << 20, "3.0 MiB"}, {3328599654, "3.1 GiB"}, {5 << 40, "5.0 TiB"}, {5 << 50, "5120.0 TiB"},
	} {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestSummary: the summary counts errors and warnings and names skips.
func TestSummary(t *testing.T) {
	r := &Report{Findings: []Finding{{Severity: Error}, {Severity: Warning}, {Severity: Error}}, Skipped: []string{CheckQuota}}
	if got, want := r.Summary(), "preflight: 2 errors, 1 warning (skipped: quota)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

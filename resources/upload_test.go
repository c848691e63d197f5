package resources_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
)

// TestImageUploadProgress: a file above the size threshold reports every
// step of its upload, ending at 100%; below it, nothing is written.
func TestImageUploadProgress(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	p := filepath.Join(t.TempDir(), "big.iso")
	if err := os.WriteFile(p, bytes.Repeat([]byte("fuel"), 1<<18), 0o600); err != nil { // 1 MiB
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		minSize int64
		want    []string
	}{
		{"large", 1 << 20, []string{"image.big: uploaded", "of 1.0 MiB (100%)"}},
		{"small", 2 << 20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			ctx := resources.WithUploadProgress(context.Background(), resources.UploadProgress{W: &out, MinSize: tc.minSize, Step: 25})
			spec := imageSpec("big", p, nil)
			spec.Name = "lab1-big-" + tc.name
			o, err := (&resources.Image{}).Create(ctx, c, "lab1", spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = (&resources.Image{}).Delete(context.Background(), c, o) }()
			got := out.String()
			if tc.want == nil && got != "" {
				t.Errorf("small file reported progress:\n%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("progress lacks %q:\n%s", w, got)
				}
			}
			if lines := strings.Count(got, "\n"); tc.want != nil && (lines < 2 || lines > 4) {
				t.Errorf("%d lines for steps of 25%%, want 2 to 4:\n%s", lines, got)
			}
		})
	}
}

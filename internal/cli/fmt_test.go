package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFmt(t *testing.T) {
	dir := t.TempDir()
	messy := filepath.Join(dir, "messy.yaml")
	tidy := filepath.Join(dir, "tidy.yaml")
	const messyText = "apiVersion:   fuelplan/v1\nlab: x\n\n\n\nnetworks:\n- name: a\n  cidr: 10.0.0.0/24\n"
	const tidyText = "apiVersion: fuelplan/v1\nlab: x\n\nnetworks:\n  - name: a\n    cidr: 10.0.0.0/24\n"
	for p, text := range map[string]string{messy: messyText, tidy: tidyText} {
		if err := os.WriteFile(p, []byte(text), 0o640); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errw := run(t, "fmt", "--check", messy, tidy)
	if code != ExitError || out != messy+"\n" || !strings.Contains(errw, "1 of 2 files are not formatted") {
		t.Errorf("--check: exit %d, stdout %q, stderr %q; want exit 1 listing only %s", code, out, errw, messy)
	}
	if b, _ := os.ReadFile(messy); string(b) != messyText {
		t.Error("--check wrote the file")
	}

	if code, out, errw := run(t, "fmt", messy, tidy); code != ExitOK || out != "" {
		t.Fatalf("fmt: exit %d, stdout %q, stderr %q", code, out, errw)
	}
	if b, _ := os.ReadFile(messy); string(b) != tidyText {
		t.Errorf("fmt wrote:\n%s\nwant:\n%s", b, tidyText)
	}
	if fi, _ := os.Stat(messy); fi.Mode().Perm() != 0o640 {
		t.Errorf("fmt changed the file's mode to %v", fi.Mode().Perm())
	}
	if code, _, errw := run(t, "fmt", "--check", messy, tidy); code != ExitOK {
		t.Errorf("--check after fmt: exit %d, %s", code, errw)
	}
}

// fmt pointed at a file that is not a spec says so without quoting it.
func TestFmtNeverQuotesItsInput(t *testing.T) {
	key := filepath.Join(t.TempDir(), "id_ed25519")
	const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n"
	if err := os.WriteFile(key, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errw := run(t, "fmt", key)
	if code != ExitError {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Contains(out+errw, "b3BlbnNz") || strings.Contains(out+errw, "PRIVATE") {
		t.Errorf("the key leaked into the output:\n%s%s", out, errw)
	}
	if b, _ := os.ReadFile(key); string(b) != secret {
		t.Error("fmt changed a file it refused")
	}
}

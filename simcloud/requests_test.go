package simcloud

import "testing"

func TestNormalizePath(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/network/v2.0/ports", "/network/v2.0/ports"},
		{"/network/v2.0/ports/5e1c7a3e-9d0b-4c8e-9a51-0d4f6b2e8c71", "/network/v2.0/ports/{id}"},
		{"/network/v2.0/networks/5e1c7a3e-9d0b-4c8e-9a51-0d4f6b2e8c71/tags/lab", "/network/v2.0/networks/{id}/tags/lab"},
		{"/compute/v2.1/flavors/3", "/compute/v2.1/flavors/{id}"},
		{"/identity/v3/projects/6f0a2b1c3d4e4f5a8b9c0d1e2f3a4b5c", "/identity/v3/projects/{id}"},
		{"/compute/v2.1/os-keypairs/lab-key", "/compute/v2.1/os-keypairs/lab-key"},
		{"/image/v2/images", "/image/v2/images"},
	}
	for _, tt := range tests {
		if got := normalizePath(tt.in); got != tt.want {
			t.Errorf("normalizePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

package waits

import "testing"

// TestKeystoneURLKeepsTheScheme (issue 13, item 7): the Fuel password
// went to http://HOST:5000 even when the wait URL was https.
func TestKeystoneURLKeepsTheScheme(t *testing.T) {
	tests := []struct {
		check Check
		want  string
	}{
		{Check{URL: "https://10.20.0.2:8443/api/nodes"}, "https://10.20.0.2:5000/v2.0"},
		{Check{URL: "http://10.20.0.2:8000/api/nodes"}, "http://10.20.0.2:5000/v2.0"},
		{Check{URL: "https://[fd00::2]/api/nodes"}, "https://[fd00::2]:5000/v2.0"},
		{Check{URL: "https://fuel/api/nodes", KeystoneURL: "https://ks:5000/v2.0"}, "https://ks:5000/v2.0"},
		{Check{URL: "ftp://fuel/api/nodes"}, ""},
	}
	for _, tt := range tests {
		got, err := keystoneURL(&tt.check)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("%s: got %q, %v; want %q", tt.check.URL, got, err, tt.want)
		}
	}
}

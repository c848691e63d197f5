package resources

import (
	"strings"
	"testing"
)

// FuzzCloudsYAML reads arbitrary bytes as clouds.yaml (the part of
// Connect that needs no network). It never panics, and its errors never
// quote the file: a password in it must not reach a log.
func FuzzCloudsYAML(f *testing.F) {
	const password = "s3cr3t-pw"
	f.Add([]byte("clouds:\n  c:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      username: u\n      password: " + password + "\n      project_name: p\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n    verify: false\n"))
	f.Add([]byte("clouds:\n  c:\n    auth: " + password + "\n"))
	f.Add([]byte("clouds:\n  c:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: https://x/v3\n      application_credential_id: id\n      application_credential_secret: " + password + "\n    cacert: /nonexistent\n"))
	for _, v := range []string{"OS_CLOUD", "OS_AUTH_URL", "OS_CLIENT_CONFIG_FILE", "OS_PASSWORD"} {
		f.Setenv(v, "")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _, err := authOptions(Target{CloudName: "c", CloudsYAML: data})
		if err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("error quotes the password: %v", err)
		}
	})
}

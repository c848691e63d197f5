package resources_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
)

// An auth endpoint that takes connections but never answers fails the
// connect within its deadline, naming the URL, instead of hanging.
func TestConnectSilentEndpointTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	authURL := "http://" + ln.Addr().String() + "/identity/v3"
	clouds := "clouds:\n  silent:\n    auth:\n      auth_url: " + authURL +
		"\n      username: u\n      password: p\n      project_name: p\n      user_domain_name: Default\n      project_domain_name: Default\n"
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := resources.Connect(context.Background(), resources.Target{CloudName: "silent", CloudsYAML: []byte(clouds),
			AuthTimeout: 300 * time.Millisecond})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), authURL) || !strings.Contains(err.Error(), "no answer within") {
			t.Fatalf("connect: %v, want a timeout naming %s", err, authURL)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("connect took %v with a 300ms deadline", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("connect to a silent endpoint still hanging after 10s")
	}
}

// With the OS_* variables, OS_CACERT is trusted as clouds.yaml's cacert
// is: Keystone behind TLS with a private CA authenticates; without it the
// certificate is refused. (OS_INSECURE skips the check.)
func TestConnectEnvCACert(t *testing.T) {
	sim, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	backend, _ := url.Parse(sim.URL)
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(backend))
	t.Cleanup(front.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	creds := sim.Admin()
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_AUTH_URL", front.URL+strings.TrimPrefix(creds.AuthURL, sim.URL))
	t.Setenv("OS_USERNAME", creds.Username)
	t.Setenv("OS_PASSWORD", creds.Password)
	t.Setenv("OS_PROJECT_NAME", creds.ProjectName)
	t.Setenv("OS_DOMAIN_NAME", creds.DomainName)

	tests := []struct {
		name, cacert, insecure string
		ok                     bool
	}{
		{"no CA", "", "", false},
		{"OS_CACERT", caFile, "", true},
		{"OS_INSECURE", "", "true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OS_CACERT", tt.cacert)
			t.Setenv("OS_INSECURE", tt.insecure)
			_, err := resources.Connect(context.Background(), resources.Target{})
			var unknown x509.UnknownAuthorityError
			switch {
			case tt.ok && err != nil:
				t.Fatalf("connect: %v", err)
			case !tt.ok && (err == nil || !strings.Contains(err.Error(), unknown.Error()[:20])):
				t.Fatalf("connect without the CA: %v, want the certificate refused", err)
			}
		})
	}
}

// A cloud name that clouds.yaml lacks is reported with the file searched
// and the entries it has, and nothing else of the file.
func TestConnectUnknownCloudNamesFileAndEntries(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clouds.yaml")
	yaml := "clouds:\n  prod:\n    auth: {auth_url: http://127.0.0.1:1/v3, password: hunter2-secret}\n  lab:\n    auth: {auth_url: http://127.0.0.1:1/v3}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", file)
	_, err := resources.Connect(context.Background(), resources.Target{CloudName: "lba"})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "lab, prod") {
		t.Fatalf("connect to a missing entry: %v, want %s and its entries named", err, file)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("the error quotes the file: %v", err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(dir, "nope.yaml"))
	_, err = resources.Connect(context.Background(), resources.Target{CloudName: "lab"})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("connect with no clouds.yaml: %v, want the searched path named", err)
	}
}

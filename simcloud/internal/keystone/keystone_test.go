package keystone_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/fuelplan/fuelplan/simcloud/internal/keystone"
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

const (
	adminProjectID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	demoProjectID  = "1a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

// start serves a Keystone with an admin and a member user, mounted at the
// server's root as the core would after stripping "/identity".
func start(t *testing.T) (*keystone.Service, *httptest.Server, *simcore.Knobs) {
	t.Helper()
	knobs := simcore.NewKnobs()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	ks := keystone.New(keystone.Config{
		Knobs:   knobs,
		BaseURL: srv.URL,
		Projects: []keystone.Project{
			{ID: adminProjectID, Name: "admin"},
			{ID: demoProjectID, Name: "demo"},
		},
		Users: []keystone.User{
			{ID: "u-admin", Name: "admin", Password: "s3cret-admin", Project: "admin", Roles: []string{"admin", "member"}},
			{ID: "u-demo", Name: "demo", Password: "s3cret-demo", Project: "demo", Roles: []string{"member"}},
		},
		Catalog: []keystone.Endpoint{
			{Type: "network", Name: "neutron", URL: srv.URL + "/network/"},
			{Type: "identity", Name: "keystone", URL: srv.URL + "/v3/"},
		},
	})
	srv.Config.Handler = ks
	return ks, srv, knobs
}

func identityClient(srv *httptest.Server, token string) *gophercloud.ServiceClient {
	return &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{TokenID: token},
		Endpoint:       srv.URL + "/v3/",
	}
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	ks, srv, _ := start(t)
	tests := []struct {
		name        string
		opts        tokens.AuthOptions
		wantStatus  int    // 0: success
		wantProject string // "" for a domain-scoped token
		wantAdmin   bool
	}{
		{"project by name and domain name", tokens.AuthOptions{Username: "admin", Password: "s3cret-admin", DomainName: "Default",
			Scope: tokens.Scope{ProjectName: "admin", DomainName: "Default"}}, 0, "admin", true},
		{"project by id", tokens.AuthOptions{Username: "demo", Password: "s3cret-demo", DomainID: "default",
			Scope: tokens.Scope{ProjectID: demoProjectID}}, 0, "demo", false},
		{"user by id, no scope: default project", tokens.AuthOptions{UserID: "u-demo", Password: "s3cret-demo"}, 0, "demo", false},
		{"domain scope", tokens.AuthOptions{Username: "admin", Password: "s3cret-admin", DomainID: "default",
			Scope: tokens.Scope{DomainID: "default"}}, 0, "", true},
		{"wrong password", tokens.AuthOptions{Username: "admin", Password: "nope", DomainID: "default"}, 401, "", false},
		{"unknown user", tokens.AuthOptions{Username: "mallory", Password: "x", DomainID: "default"}, 401, "", false},
		{"other domain", tokens.AuthOptions{Username: "admin", Password: "s3cret-admin", DomainName: "Other"}, 401, "", false},
		{"project without a role", tokens.AuthOptions{Username: "demo", Password: "s3cret-demo", DomainID: "default",
			Scope: tokens.Scope{ProjectName: "admin", DomainID: "default"}}, 401, "", false},
		{"unknown project", tokens.AuthOptions{Username: "demo", Password: "s3cret-demo", DomainID: "default",
			Scope: tokens.Scope{ProjectID: "nope"}}, 401, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tokens.Create(context.Background(), identityClient(srv, ""), &tt.opts)
			if tt.wantStatus != 0 {
				if !gophercloud.ResponseCodeIs(res.Err, tt.wantStatus) {
					t.Fatalf("err = %v, want HTTP %d", res.Err, tt.wantStatus)
				}
				return
			}
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			id, err := res.ExtractTokenID()
			if err != nil || id == "" {
				t.Fatalf("token id %q, %v", id, err)
			}
			tok, err := res.ExtractToken()
			if err != nil || !tok.ExpiresAt.After(time.Now()) {
				t.Fatalf("token %+v, %v", tok, err)
			}
			project, _ := res.ExtractProject()
			got := ""
			if project != nil {
				got = project.Name
			}
			if got != tt.wantProject {
				t.Errorf("project = %q, want %q", got, tt.wantProject)
			}
			if tt.wantProject == "" {
				if d, err := res.ExtractDomain(); err != nil || d == nil || d.ID != "default" {
					t.Errorf("domain = %+v, %v; want default", d, err)
				}
			}
			catalog, err := res.ExtractServiceCatalog()
			if err != nil || len(catalog.Entries) != 2 {
				t.Fatalf("catalog = %+v, %v", catalog, err)
			}
			ident, ok := ks.Validate(id)
			if !ok || ident.Admin != tt.wantAdmin || ident.ProjectName != tt.wantProject {
				t.Errorf("Validate = %+v, %v", ident, ok)
			}
		})
	}
}

func TestUnscopedToken(t *testing.T) {
	t.Parallel()
	ks, srv, _ := start(t)
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": "demo", "password": "s3cret-demo", "domain": map[string]string{"id": "default"}}}},
		"scope": "unscoped",
	}}
	var out struct {
		Token map[string]any `json:"token"`
	}
	resp, err := identityClient(srv, "").Post(context.Background(), srv.URL+"/v3/auth/tokens", body, &out,
		&gophercloud.RequestOpts{OkCodes: []int{201}})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"project", "domain", "catalog", "roles"} {
		if _, ok := out.Token[key]; ok {
			t.Errorf("unscoped token has %q", key)
		}
	}
	id, ok := ks.Validate(resp.Header.Get("X-Subject-Token"))
	if !ok || id.ProjectID != "" || id.Admin || len(id.Roles) != 0 {
		t.Errorf("Validate = %+v, %v; want an identity without project or roles", id, ok)
	}
}

func TestValidateAndRevoke(t *testing.T) {
	t.Parallel()
	ks, srv, knobs := start(t)
	ctx := context.Background()
	issue := func(user, password string) string {
		id, err := tokens.Create(ctx, identityClient(srv, ""), &tokens.AuthOptions{
			Username: user, Password: password, DomainID: "default"}).ExtractTokenID()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	admin, demo := issue("admin", "s3cret-admin"), issue("demo", "s3cret-demo")

	tok, err := tokens.Get(ctx, identityClient(srv, admin), demo).ExtractToken()
	if err != nil || tok.ID != demo {
		t.Fatalf("Get = %+v, %v", tok, err)
	}
	if roles, _ := tokens.Get(ctx, identityClient(srv, admin), demo).ExtractRoles(); len(roles) != 1 || roles[0].Name != "member" {
		t.Errorf("roles = %+v, want [member]", roles)
	}
	tests := []struct {
		name, caller, subject string
		want                  int
	}{
		{"unknown subject", admin, "gAAAAAnope", 404},
		{"unknown caller", "gAAAAAnope", demo, 401},
	}
	for _, tt := range tests {
		if err := tokens.Get(ctx, identityClient(srv, tt.caller), tt.subject).Err; !gophercloud.ResponseCodeIs(err, tt.want) {
			t.Errorf("%s: err = %v, want HTTP %d", tt.name, err, tt.want)
		}
	}
	if ok, err := tokens.Validate(ctx, identityClient(srv, admin), demo); !ok || err != nil {
		t.Errorf("Validate (HEAD) = %v, %v", ok, err)
	}

	if err := tokens.Revoke(ctx, identityClient(srv, admin), demo).Err; err != nil {
		t.Fatal(err)
	}
	if _, ok := ks.Validate(demo); ok {
		t.Error("revoked token still valid")
	}

	// Tokens expire after an hour of the knobs' clock.
	now := time.Now()
	knobs.SetNow(func() time.Time { return now.Add(61 * time.Minute) })
	if _, ok := ks.Validate(admin); ok {
		t.Error("token valid after its expiry")
	}
}

// TestVersionDiscovery drives openstack.AuthenticatedClient from the
// unversioned URL: it reads GET / to find /v3, then authenticates.
func TestVersionDiscovery(t *testing.T) {
	t.Parallel()
	_, srv, _ := start(t)
	for _, authURL := range []string{srv.URL, srv.URL + "/v3"} {
		pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
			IdentityEndpoint: authURL, Username: "demo", Password: "s3cret-demo", DomainName: "Default",
			TenantName: "demo",
		})
		if err != nil {
			t.Fatalf("%s: %v", authURL, err)
		}
		url, err := pc.EndpointLocator(gophercloud.EndpointOpts{Type: "network", Availability: gophercloud.AvailabilityPublic})
		if err != nil || url != srv.URL+"/network/" {
			t.Errorf("%s: network endpoint %q, %v", authURL, url, err)
		}
	}
	resp, err := http.Get(srv.URL + "/v3/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d, want 404", resp.StatusCode)
	}
}

func TestErrorBodyNamesNoSecret(t *testing.T) {
	t.Parallel()
	_, srv, _ := start(t)
	err := tokens.Create(context.Background(), identityClient(srv, ""), &tokens.AuthOptions{
		Username: "admin", Password: "wrong-password-xyz", DomainID: "default"}).Err
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != 401 {
		t.Fatalf("err = %v, want HTTP 401", err)
	}
	body := string(e.Body)
	if strings.Contains(body, "wrong-password-xyz") {
		t.Errorf("error body %q repeats the password", body)
	}
	if !strings.Contains(body, `"title":"Unauthorized"`) || !strings.Contains(body, `"code":401`) {
		t.Errorf("body %q is not Keystone's error body", body)
	}
}

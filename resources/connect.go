package resources

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"
)

// ComputeMicroversion is the Nova API version fuelplan speaks: server tags
// on create (2.52) and flavors listed with their extra_specs (2.61), so one
// list call reads every flavor's ownership mark. Every release since Rocky has it.
const ComputeMicroversion = "2.61"

// Target says which cloud to talk to: a clouds.yaml entry by name, or, with
// no name, the OS_* environment variables.
type Target struct {
	CloudName string
	// CloudsYAML overrides the clouds.yaml search (tests, --cloud sim).
	CloudsYAML []byte
	// AuthTimeout bounds connecting and authenticating; 0 is
	// DefaultAuthTimeout.
	AuthTimeout time.Duration
}

// Deadlines, so that an endpoint that takes connections but never answers
// fails the run with its URL instead of hanging it: authentication (with
// its connection) has DefaultAuthTimeout; every other request must start
// answering within requestTimeout of being sent (generous: a loaded
// Neutron has been seen taking minutes to create a router), and connecting
// and the TLS handshake take at most dialTimeout.
const (
	DefaultAuthTimeout = 30 * time.Second
	requestTimeout     = 5 * time.Minute
	dialTimeout        = 15 * time.Second
)

// ErrNoCloud is returned when nothing says which cloud to use.
var ErrNoCloud = fmt.Errorf("no cloud configured: pass --cloud NAME (a clouds.yaml entry), set OS_CLOUD, " +
	"or set OS_AUTH_URL and the other OS_* variables; `--cloud sim` uses fuelplan's built-in simulated cloud")

// Connect authenticates and builds the service clients. TLS verification
// stays on unless clouds.yaml says `verify: false`.
func Connect(ctx context.Context, t Target) (*Cloud, error) {
	ao, eo, tlsConf, err := authOptions(t)
	if err != nil {
		return nil, err
	}
	timeout := t.AuthTimeout
	if timeout == 0 {
		timeout = DefaultAuthTimeout
	}
	return connect(ctx, ao, eo, tlsConf, timeout)
}

// transport is the HTTP transport of every request: proxies from the
// environment, the cloud's TLS settings, and the deadlines above.
func transport(tlsConf *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: requestTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ExpectContinueTimeout: time.Second,
	}
}

// envTLS is the TLS the OS_* variables ask for, as the openstack CLI reads
// them: OS_CACERT (a PEM file of CAs to trust), OS_CERT and OS_KEY (a
// client certificate), OS_INSECURE (no verification). nil: the defaults.
func envTLS() (*tls.Config, error) {
	caFile, certFile, keyFile := os.Getenv("OS_CACERT"), os.Getenv("OS_CERT"), os.Getenv("OS_KEY")
	insecure, _ := strconv.ParseBool(os.Getenv("OS_INSECURE"))
	if caFile == "" && certFile == "" && keyFile == "" && !insecure {
		return nil, nil
	}
	// OS_INSECURE turns verification off, as it does for the openstack CLI.
	conf := &tls.Config{InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("OS_CACERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("OS_CACERT: %s holds no PEM certificate", caFile)
		}
		conf.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, fmt.Errorf("OS_CERT and OS_KEY go together: set both or neither")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			// The error names the files, never their content.
			return nil, fmt.Errorf("OS_CERT/OS_KEY: cannot load the client certificate %s", certFile)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

func authOptions(t Target) (gophercloud.AuthOptions, gophercloud.EndpointOpts, *tls.Config, error) {
	name := t.CloudName
	if name == "" {
		name = os.Getenv("OS_CLOUD")
	}
	if name == "" {
		if os.Getenv("OS_AUTH_URL") == "" {
			return gophercloud.AuthOptions{}, gophercloud.EndpointOpts{}, nil, ErrNoCloud
		}
		ao, err := openstack.AuthOptionsFromEnv()
		if err != nil {
			return ao, gophercloud.EndpointOpts{}, nil, fmt.Errorf("OS_* environment: %w", err)
		}
		tlsConf, err := envTLS()
		if err != nil {
			return ao, gophercloud.EndpointOpts{}, nil, err
		}
		return ao, gophercloud.EndpointOpts{Region: os.Getenv("OS_REGION_NAME")}, tlsConf, nil
	}
	opts := []clouds.ParseOption{clouds.WithCloudName(name)}
	if t.CloudsYAML != nil {
		opts = append(opts, clouds.WithCloudsYAML(bytes.NewReader(t.CloudsYAML)))
	}
	ao, eo, tlsConf, err := parseClouds(opts...)
	if err != nil && t.CloudsYAML == nil {
		// Say where the name was looked for and what is there, so that a
		// typo is found at a glance (the entries' names only: never
		// anything else of the file).
		switch file, entries := CloudsEntries(); {
		case file == "":
			return ao, eo, nil, fmt.Errorf("cloud %q: no clouds.yaml found (searched %s)", name, strings.Join(cloudsFiles(), ", "))
		case !slices.Contains(entries, name):
			return ao, eo, nil, fmt.Errorf("cloud %q: no such entry in %s (its entries: %s)", name, file, strings.Join(entries, ", "))
		}
	}
	if err != nil {
		return ao, eo, nil, fmt.Errorf("cloud %q: %s", name, unquoteYAML(err.Error()))
	}
	return ao, eo, tlsConf, nil
}

// parseClouds is clouds.Parse, which panics on an entry without an auth
// section (gophercloud v2.15, found by FuzzCloudsYAML): that is an error
// about the entry, not a crash.
func parseClouds(opts ...clouds.ParseOption) (ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts, tlsConf *tls.Config, err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("the clouds.yaml entry cannot be used: does it have an auth: section?")
		}
	}()
	return clouds.Parse(opts...)
}

// yamlQuoted is how yaml.v3 quotes a value in its errors ("cannot
// unmarshal !!str `VALUE` into ...").
var yamlQuoted = regexp.MustCompile("`[^`]*`")

// unquoteYAML drops the values yaml.v3 quotes from a clouds.yaml error:
// `auth: PASSWORD` (a mistyped nesting) must not print the password.
// Found by FuzzCloudsYAML.
func unquoteYAML(msg string) string {
	return yamlQuoted.ReplaceAllString(msg, "a value")
}

func connect(ctx context.Context, ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts, tlsConf *tls.Config, authTimeout time.Duration) (*Cloud, error) {
	ao.AllowReauth = true
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("auth URL %q: %w", ao.IdentityEndpoint, err)
	}
	pc.RetryFunc = classify // every failed request gets its class (errclass.go)
	pc.HTTPClient = http.Client{Transport: transport(tlsConf)}
	authCtx, cancel := context.WithTimeout(ctx, authTimeout)
	err = openstack.Authenticate(authCtx, pc, ao)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, fmt.Errorf("authenticate at %s as %q: no answer within %v", ao.IdentityEndpoint, ao.Username, authTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate at %s as %q: %w", ao.IdentityEndpoint, ao.Username, err)
	}
	c := &Cloud{Extensions: map[string]bool{}}
	if res, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := res.ExtractProject(); err == nil && p != nil {
			c.ProjectID = p.ID
		}
		if roles, err := res.ExtractRoles(); err == nil {
			for _, r := range roles {
				if r.Name == "admin" {
					c.Admin = true
				}
			}
		}
	}
	// Finding an endpoint asks it for its versions (gophercloud's
	// discovery, a request each for Neutron and Glance), and Neutron's
	// extensions need Neutron's: the chains run side by side, so that
	// connecting costs three round trips rather than five.
	var computeErr, imageErr error
	var vol *gophercloud.ServiceClient
	var wg sync.WaitGroup
	wg.Go(func() {
		c.Compute, computeErr = openstack.NewComputeV2(pc, eo)
		c.Image, imageErr = openstack.NewImageV2(pc, eo)
		if v, err := openstack.NewBlockStorageV3(pc, eo); err == nil {
			vol = v
		}
	})
	var exts []extensions.Extension
	var extErr error
	c.Network, err = openstack.NewNetworkV2(pc, eo)
	if err == nil {
		exts, extErr = networkExtensions(ctx, c, authTimeout)
	}
	wg.Wait()
	// The first failure in the order a serial connect meets them.
	switch {
	case err != nil:
		return nil, fmt.Errorf("network endpoint: %w", err)
	case computeErr != nil:
		return nil, fmt.Errorf("compute endpoint: %w", computeErr)
	case imageErr != nil:
		return nil, fmt.Errorf("image endpoint: %w", imageErr)
	case extErr != nil:
		return nil, extErr
	}
	c.Compute.Microversion = ComputeMicroversion
	c.Volume = vol
	for _, e := range exts {
		c.Extensions[e.Alias] = true
	}
	return c, nil
}

// networkExtensions reads Neutron's extensions, the last step of
// connecting: bounded like authentication.
func networkExtensions(ctx context.Context, c *Cloud, authTimeout time.Duration) ([]extensions.Extension, error) {
	extCtx, cancelExt := context.WithTimeout(ctx, authTimeout)
	defer cancelExt()
	pages, err := extensions.List(c.Network).AllPages(extCtx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, fmt.Errorf("list network extensions at %s: no answer within %v", c.Network.Endpoint, authTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("list network extensions: %w", err)
	}
	exts, err := extensions.ExtractExtensions(pages)
	if err != nil {
		return nil, fmt.Errorf("list network extensions: %w", err)
	}
	return exts, nil
}

// CloudsEntries finds the clouds.yaml the OpenStack clients would read
// and returns its path and the names of its entries, sorted; "" when there
// is none.
func CloudsEntries() (string, []string) {
	for _, f := range cloudsFiles() {
		data, err := readAtMost(f, maxCloudsFile)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return f, nil // unreadable or too big: no entries to list
		}
		var doc struct {
			Clouds map[string]yaml.Node `yaml:"clouds"`
		}
		_ = yaml.Unmarshal(data, &doc) // unreadable: no entries; Parse says why
		names := make([]string, 0, len(doc.Clouds))
		for n := range doc.Clouds {
			names = append(names, n)
		}
		slices.Sort(names)
		return f, names // the first file found is the one read
	}
	return "", nil
}

// maxCloudsFile bounds what CloudsEntries reads of a clouds.yaml (a real
// one is a few kilobytes; /dev/zero must not be read for ever).
const maxCloudsFile = 1 << 20

func readAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, err
}

// cloudsFiles are the clouds.yaml files in the order the OpenStack
// clients (and gophercloud's clouds package) search them.
func cloudsFiles() []string {
	if f := os.Getenv("OS_CLIENT_CONFIG_FILE"); f != "" {
		return []string{f}
	}
	files := []string{"clouds.yaml"}
	if cwd, err := os.Getwd(); err == nil {
		files[0] = filepath.Join(cwd, "clouds.yaml")
	}
	if dir, err := os.UserConfigDir(); err == nil {
		files = append(files, filepath.Join(dir, "openstack", "clouds.yaml"))
	}
	return append(files, "/etc/openstack/clouds.yaml")
}

package waits

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// fuelNode is the part of a Fuel node (GET /api/nodes) the check reads.
type fuelNode struct {
	ID     int    `json:"id"`
	MAC    string `json:"mac"`
	Online bool   `json:"online"`
	Status string `json:"status"`
	Meta   struct {
		Interfaces []struct {
			MAC string `json:"mac"`
		} `json:"interfaces"`
	} `json:"meta"`
}

// macs are every MAC address the node reports, lower case.
func (n *fuelNode) macs() []string {
	out := []string{strings.ToLower(n.MAC)}
	for _, i := range n.Meta.Interfaces {
		out = append(out, strings.ToLower(i.MAC))
	}
	return out
}

// fuelProbe: ready when Count nodes matched by the slaves' MACs are
// online with status discover. Fuel answers 401 without a token; the
// probe then logs in to Fuel's Keystone once and keeps the token until it
// is refused again.
func fuelProbe(c *Check, client *http.Client) probe {
	want := map[string]bool{}
	for _, m := range c.MACs {
		want[strings.ToLower(m)] = true
	}
	count := c.Count
	if count <= 0 {
		count = len(c.MACs)
	}
	var mu sync.Mutex
	token := ""
	return func(ctx context.Context) (bool, string, error) {
		mu.Lock()
		defer mu.Unlock()
		resp, err := get(ctx, client, c.URL, token)
		if err != nil {
			return false, errText(err), nil
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			drain(resp)
			if c.Username == "" {
				return false, fmt.Sprintf("answered %s and no username is given to log in with", resp.Status), nil
			}
			if token, err = fuelLogin(ctx, client, c); err != nil {
				return false, err.Error(), nil
			}
			if resp, err = get(ctx, client, c.URL, token); err != nil {
				return false, errText(err), nil
			}
		}
		defer drain(resp)
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Sprintf("answered %s", resp.Status), nil
		}
		var nodes []fuelNode
		if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&nodes); err != nil {
			return false, fmt.Sprintf("not a list of nodes: %v", err), nil
		}
		found := map[string]bool{}
		ready := 0
		for i := range nodes {
			n := &nodes[i]
			matched := len(want) == 0
			for _, m := range n.macs() {
				if want[m] {
					matched, found[m] = true, true
				}
			}
			if matched && n.Online && n.Status == "discover" {
				ready++
			}
		}
		seen := fmt.Sprintf("%d of %d node(s) online in discover (%d node(s) listed)", ready, count, len(nodes))
		if len(want) > 0 {
			var missing []string
			for m := range want {
				if !found[m] {
					missing = append(missing, m)
				}
			}
			slices.Sort(missing)
			if len(missing) > 0 {
				seen += "; not seen: " + strings.Join(missing, ", ") + dhcpHint
			}
		}
		return ready >= count, seen, nil
	}
}

// dhcpHint says the usual reason a slave never reaches Fuel: its PXE
// boot's DHCP request gets no answer because Neutron drops the DHCP
// replies the master sends (the problem the allow-dhcp-server patch fixes).
const dhcpHint = " (a slave Fuel never lists got no DHCP answer from the master: check that the slave's admin port is on the master's network and that the master's DHCP replies are let through, by an allow-dhcp-server patch on its admin port; see docs/patches.md)"

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// keystoneURL is where the Fuel password goes: the check's KeystoneURL,
// else Fuel's Keystone on port 5000 of the wait URL's host, with the wait
// URL's scheme, so a password meant for https never crosses plain http.
func keystoneURL(c *Check) (string, error) {
	if c.KeystoneURL != "" {
		return c.KeystoneURL, nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("keystone URL: the wait URL is not an http or https URL")
	}
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), "5000") + "/v2.0", nil
}

// fuelLogin asks Fuel's Keystone (v2.0, as Fuel 6.x runs) for a token in
// the admin tenant. The error never holds the password.
func fuelLogin(ctx context.Context, client *http.Client, c *Check) (string, error) {
	ks, err := keystoneURL(c)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"tenantName":          "admin",
		"passwordCredentials": map[string]string{"username": c.Username, "password": c.Password.Reveal()},
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(ks, "/")+"/tokens", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("log in to Fuel's Keystone: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("log in to Fuel's Keystone at %s: %s", redactURL(ks), errText(err))
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("log in to Fuel's Keystone at %s as %q: answered %s", redactURL(ks), c.Username, resp.Status)
	}
	var out struct {
		Access struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"access"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Access.Token.ID == "" {
		return "", fmt.Errorf("log in to Fuel's Keystone at %s: no token in the answer", redactURL(ks))
	}
	return out.Access.Token.ID, nil
}

package resources

import "context"

// WithNeutronPageLimit makes Neutron list calls under ctx ask for pages
// of n objects.
func WithNeutronPageLimit(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, pageLimitKey{}, n)
}

// NeutronKeys exposes the body keys derived from a collection.
var NeutronKeys = neutronKeys

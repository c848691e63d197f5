package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Port creates that the engine starts close together (the ports of many
// servers become ready at once) go to Neutron as one bulk create: a POST
// of a list of ports, one request where there were many. The first create
// waits bulkWindow for others, each newcomer waits that much more, up to
// bulkMaxWait and bulkMax ports. Where the tags cannot go in the bulk
// request (Zed does not list tag-ports-during-bulk-creation and ignores
// them there), each port carries the creation mark and is tagged after,
// as a single create's would be. A bulk create is all or nothing (Zed
// fails the whole request with one bad port's error, 409 and nothing
// made): when it fails, each of its ports is created alone, so a bad port
// fails with its own error and the others are made.

const (
	bulkWindow  = 5 * time.Millisecond
	bulkMaxWait = 25 * time.Millisecond
	bulkMax     = 50
	// bulkTimeout bounds the bulk request, which no single create's
	// context owns.
	bulkTimeout = 2 * time.Minute
)

// errBulkFailed tells a port create its bulk request failed: create alone.
type errBulkFailed struct{ err error }

func (e *errBulkFailed) Error() string { return "bulk port create: " + e.err.Error() }
func (e *errBulkFailed) Unwrap() error { return e.err }

// mayHaveMade reports whether the failed bulk request may have created
// its ports all the same (no answer, a server error): the single creates
// then first look for them (RetriedCreate). A 4xx answer made nothing.
func (e *errBulkFailed) mayHaveMade() bool {
	var ec gophercloud.ErrUnexpectedResponseCode
	return !errors.As(e.err, &ec) || ec.Actual < 400 || ec.Actual >= 500
}

// bulkRefusedForAll reports whether a failed bulk request's error is
// one every port of it would meet alone: the quota exceeded, or a 403
// (a policy refusing ports to the project). Its ports are then not sent
// one by one: with a quota of 10 and 161 ports in flight in a few bulk
// requests, they would make 161 requests to learn what one said.
func bulkRefusedForAll(err error) bool {
	var ae *APIError
	return errors.Is(err, ErrQuota) || (errors.As(err, &ae) && ae.Status == 403)
}

type bulkItem struct {
	ctx  context.Context
	body map[string]any // the port's object, as a single create's body holds it
	done chan bulkAnswer
}

type bulkAnswer struct {
	port json.RawMessage
	err  error
}

type portBulk struct {
	c       *Cloud
	mu      sync.Mutex
	pending []*bulkItem
	first   time.Time
	timer   *time.Timer
	ctx     context.Context // the first pending create's, without its cancel
}

func (c *Cloud) portBulk() *portBulk {
	c.bulkMu.Lock()
	defer c.bulkMu.Unlock()
	if c.bulk == nil {
		c.bulk = &portBulk{c: c}
	}
	return c.bulk
}

// create adds one port to the next bulk request and returns its object
// as Neutron answered, or an *errBulkFailed.
func (b *portBulk) create(ctx context.Context, port map[string]any) (json.RawMessage, error) {
	it := &bulkItem{ctx: ctx, body: port, done: make(chan bulkAnswer, 1)}
	b.mu.Lock()
	now := time.Now()
	if len(b.pending) == 0 {
		b.first, b.ctx = now, context.WithoutCancel(ctx)
		b.timer = time.AfterFunc(bulkWindow, b.flush)
	} else {
		b.timer.Reset(min(bulkWindow, bulkMaxWait-now.Sub(b.first)))
	}
	b.pending = append(b.pending, it)
	if len(b.pending) >= bulkMax {
		b.timer.Stop()
		go b.flush()
	}
	b.mu.Unlock()
	select {
	case a := <-it.done:
		return a.port, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// flush sends the pending ports: alone (a plain create) or in bulk.
func (b *portBulk) flush() {
	b.mu.Lock()
	pending, ctx := b.pending, b.ctx
	b.pending = nil
	b.mu.Unlock()
	// A create stopped while it waited (Ctrl-C) is not sent.
	var items []*bulkItem
	for _, it := range pending {
		if err := it.ctx.Err(); err != nil {
			it.done <- bulkAnswer{err: err}
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
	defer cancel()
	url := b.c.Network.ServiceURL("ports")
	if len(items) == 1 {
		var r gophercloud.Result
		_, err := b.c.Network.Post(ctx, url, map[string]any{"port": items[0].body}, &r.Body, nil)
		var out struct {
			Port json.RawMessage `json:"port"`
		}
		if err == nil {
			err = r.ExtractIntoStructPtr(&out, "")
		}
		items[0].done <- bulkAnswer{port: out.Port, err: err}
		return
	}
	list := make([]map[string]any, len(items))
	for i, it := range items {
		list[i] = it.body
	}
	var r gophercloud.Result
	_, err := b.c.Network.Post(ctx, url, map[string]any{"ports": list}, &r.Body, nil)
	var out struct {
		Ports []json.RawMessage `json:"ports"`
	}
	if err == nil {
		err = r.ExtractIntoStructPtr(&out, "")
	}
	if err == nil && len(out.Ports) != len(items) {
		err = fmt.Errorf("the answer holds %d ports for %d", len(out.Ports), len(items))
	}
	for i, it := range items {
		if err != nil {
			it.done <- bulkAnswer{err: &errBulkFailed{err}}
			continue
		}
		it.done <- bulkAnswer{port: out.Ports[i]}
	}
}

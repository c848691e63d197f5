package session

import (
	"context"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

// Wait runs the spec's readiness checks against the lab as it is on the
// cloud. A lab without waits is ready at once, without a connection. A
// check that never became ready makes the error (rep.Err()).
func (s *Session) Wait(ctx context.Context) (rep *waits.Report, err error) {
	if !hasWaits(s.Lab) {
		return nil, nil
	}
	err = s.connected(ctx, func(c *resources.Cloud) (err error) {
		rep, err = s.wait(ctx, c)
		return err
	})
	return rep, err
}

// wait reads the lab's live state, resolves its waits against it and runs
// them.
func (s *Session) wait(ctx context.Context, c *resources.Cloud) (*waits.Report, error) {
	if !hasWaits(s.Lab) {
		return nil, nil
	}
	st, err := engine.Read(ctx, c, s.registry(), s.Lab)
	if err != nil {
		return nil, resources.Humanize(err)
	}
	checks := waits.Resolve(s.Lab, st)
	progress := s.View.Waiting(len(checks))
	console := func(ctx context.Context, id string) (string, error) { return resources.ConsoleLog(ctx, c, id) }
	opts := waits.Options{Progress: progress, Console: console}
	if s.WaitHTTP != nil {
		opts.HTTP = s.WaitHTTP()
	}
	rep := waits.Run(ctx, checks, opts)
	if err := rep.Err(); err != nil {
		return rep, err
	}
	s.View.Waited(rep)
	return rep, nil
}

func hasWaits(lab *specs.Lab) bool {
	for _, a := range lab.Addresses() {
		if a.Kind() == specs.KindWait {
			return true
		}
	}
	return false
}

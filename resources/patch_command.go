package resources

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/specs"
)

// A command patch's commands come from the spec and may hold secrets, so
// errors name them "check command" and "apply command", never quote them;
// their exit status and stderr do reach the user.
const (
	checkLabel = "check command"
	applyLabel = "apply command"
)

// commandStates runs the check on every host in parallel: exit 0 is in
// place, another exit status needed. Only a refused host key is an error.
func (a *Patch) commandStates(ctx context.Context, pt *specs.Patch, hosts []string) (map[string]string, error) {
	states := make(map[string]string, len(hosts))
	var mu sync.Mutex
	var hkErrs []error
	var wg sync.WaitGroup
	for _, hv := range hosts {
		wg.Go(func() {
			s, err := a.commandState(ctx, pt, hv)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				hkErrs = append(hkErrs, err)
				return
			}
			states[hv] = s
		})
	}
	wg.Wait()
	if len(hkErrs) > 0 {
		return nil, fmt.Errorf("%s: %w", pt.Addr(), errors.Join(hkErrs...))
	}
	return states, nil
}

func (a *Patch) commandState(ctx context.Context, pt *specs.Patch, hv string) (string, error) {
	if pt.Check == "" {
		return "needed: no check command, so it runs on every apply", nil
	}
	h, err := inventoryHost(pt, hv)
	if err != nil {
		return "unknown: " + err.Error(), nil
	}
	_, err = a.ssh.Run(ctx, h, checkLabel, pt.Check)
	var exit *sshx.ExitError
	var hk *sshx.HostKeyError
	switch {
	case err == nil:
		return InPlace, nil
	case errors.As(err, &hk):
		return "", err
	case errors.As(err, &exit):
		return fmt.Sprintf("needed: check command exited %d on %s", exit.Status, hv), nil
	}
	return "unknown: " + err.Error(), nil
}

// runCommands applies the patch on the hosts in parallel: check, apply
// where the check fails, check again. Every host is tried; the error
// names each host that failed.
func (a *Patch) runCommands(ctx context.Context, pt *specs.Patch, hosts []string) error {
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, hv := range hosts {
		wg.Go(func() { errs[i] = a.runCommand(ctx, pt, hv) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (a *Patch) runCommand(ctx context.Context, pt *specs.Patch, hv string) error {
	h, err := inventoryHost(pt, hv)
	if err != nil {
		return err
	}
	if pt.Check != "" {
		_, err := a.ssh.Run(ctx, h, checkLabel, pt.Check)
		var exit *sshx.ExitError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &exit):
			return err
		}
	}
	if _, err := a.ssh.Run(ctx, h, applyLabel, pt.Apply); err != nil {
		return err
	}
	if pt.Check == "" {
		return nil
	}
	if _, err := a.ssh.Run(ctx, h, checkLabel, pt.Check); err != nil {
		return fmt.Errorf("the apply command succeeded but the check still fails: %w", err)
	}
	return nil
}

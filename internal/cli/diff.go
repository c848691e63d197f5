package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// diffOptions are `fuelplan diff`'s.
type diffOptions struct {
	base             string
	format           string
	detailedExitcode bool

	oldName, newName string // as messages name them
	oldPath, newPath string
}

func newDiffCmd(s *streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW | diff --base REV [SPEC]",
		Short: "Show what changing a spec would do to the lab, without a cloud",
		Long: `Diff compares two versions of a spec and shows what applying the new one to a
lab built from the old one would change, per resource and field by field,
with plan's symbols: + create, ~ update in place, -/+ replace, - delete.
Replacements are propagated to what depends on them, as plan does, and the
destructive changes come first ("subnet.admin: cidr forces replacement,
which replaces subnet.admin, 5 ports and 3 servers"). No cloud is read: the
old version stands for the lab as built.

With --base REV the old version is SPEC as committed in REV, read with git
(SPEC defaults to ./fuelplan.yaml); files the spec refers to (images, keys)
are read from the work tree for both versions.

--format text (default), markdown (for a pull-request comment, with a
picture of the lab) or json (the plan format of docs/plan-json.md).

Exit codes: 0 success (with --detailed-exitcode: no changes); 1 error;
2 with --detailed-exitcode: changes present.`,
		Example: `  fuelplan diff old.yaml lab.yaml
  fuelplan diff --base origin/main labs/fuel-lab.yaml --format markdown > diff.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context(), s)
		},
	}
	cmd.Flags().StringVar(&o.base, "base", "", "compare SPEC with its version in git revision REV")
	cmd.Flags().StringVar(&o.format, "format", "text", "text, markdown or json")
	cmd.Flags().BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes, 0 when none")
	return cmd
}

func (o *diffOptions) Complete(args []string) error {
	if o.base != "" {
		if len(args) > 1 {
			return errors.New("with --base, name one spec (the new version)")
		}
		o.newPath = specArg(args)
		o.oldPath = o.newPath
		o.newName = o.newPath
		o.oldName = o.base + ":" + o.newPath
		return nil
	}
	if len(args) != 2 {
		return errors.New("name the old and the new spec, or use --base REV [SPEC]")
	}
	o.oldPath, o.newPath = args[0], args[1]
	o.oldName, o.newName = args[0], args[1]
	return nil
}

func (o *diffOptions) Validate() error {
	switch o.format {
	case "text", "markdown", "json":
		return nil
	}
	return fmt.Errorf("--format: want text, markdown or json, got %q", o.format)
}

func (o *diffOptions) Run(ctx context.Context, s *streams) error {
	var oldData []byte
	var err error
	if o.base != "" {
		oldData, err = gitShow(ctx, o.base, o.oldPath)
	} else {
		oldData, err = specs.ReadFile(o.oldPath)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", o.oldName, err)
	}
	prev, err := compileSpec(o.oldName, filepath.Dir(o.oldPath), oldData)
	if err != nil {
		return err
	}
	newData, err := specs.ReadFile(o.newPath)
	if err != nil {
		return fmt.Errorf("%s: %w", o.newName, err)
	}
	next, err := compileSpec(o.newName, filepath.Dir(o.newPath), newData)
	if err != nil {
		return err
	}
	reg := resources.Default()
	defer reg.Close()
	p, err := engine.SpecDiff(prev, next, reg)
	if err != nil {
		return err
	}
	p.SpecFile = o.newName
	if err := o.print(s.out, p, next, s.noColor); err != nil {
		return err
	}
	if o.detailedExitcode && p.HasChanges() {
		return withCode(ExitChanges, nil)
	}
	return nil
}

func (o *diffOptions) print(w io.Writer, p *plan.Plan, next *specs.Lab, noColor bool) error {
	title := fmt.Sprintf("%s → %s", o.oldName, o.newName)
	switch o.format {
	case "json":
		return render.JSON(w, p)
	case "markdown":
		return render.Markdown{Title: "fuelplan diff: `" + o.oldName + "` → `" + o.newName + "`", Lab: next}.Plan(w, p)
	}
	return render.Text{Color: useColor(w, noColor)}.Diff(w, title, p)
}

// compileSpec parses and compiles a spec's bytes; name is what messages
// call the file, dir where its file references resolve.
func compileSpec(name, dir string, data []byte) (*specs.Lab, error) {
	spec, diags := specs.ParseIn(name, dir, data, os.LookupEnv)
	if diags.HasErrors() {
		return nil, withCode(ExitError, diags.Errors())
	}
	return specs.Compile(spec)
}

// gitShow reads path as committed in rev, with the git command run in the
// path's folder (so "./lab.yaml" names the file wherever the repository's
// root is). Its errors say what git said, never the file.
func gitShow(ctx context.Context, rev, path string) ([]byte, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("--base %q: not a revision", rev)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "show", rev+":./"+filepath.Base(path))
	cmd.Dir = filepath.Dir(path)
	var out, errOut bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: specs.MaxSize + 1}
	cmd.Stderr = &limitedWriter{w: &errOut, n: 4096}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git show: %s", firstLine(msg))
	}
	if out.Len() > specs.MaxSize {
		return nil, fmt.Errorf("larger than the spec size limit of %d bytes", specs.MaxSize)
	}
	return out.Bytes(), nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// limitedWriter keeps at most n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	k := min(len(p), l.n)
	l.n -= k
	if _, err := l.w.Write(p[:k]); err != nil {
		return 0, err
	}
	return len(p), nil
}

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fuelplan/fuelplan/internal/atomicfile"
	"github.com/fuelplan/fuelplan/specs/specfmt"
	"github.com/spf13/cobra"
)

// fmtOptions are `fuelplan fmt`'s.
type fmtOptions struct {
	check bool
	files []string
}

func newFmtCmd(s *streams) *cobra.Command {
	o := &fmtOptions{}
	cmd := &cobra.Command{
		Use:   "fmt [--check] [FILE...]",
		Short: "Rewrite specs in the canonical layout (--check: only report)",
		Long: `Fmt rewrites spec files in fuelplan's one canonical layout, so that a reviewed
diff shows only real changes: two-space indentation with list items indented
under their key, one space after a colon, at most one blank line where there
were blank lines, no trailing spaces. Key order, comments (and the column of
aligned trailing comments), quoting and flow lists stay as written; the values
are unchanged. FILE defaults to ./fuelplan.yaml; "-" reads standard input and
writes standard output.

With --check nothing is written: the files that are not formatted are listed
and fmt exits 1 (for CI).`,
		Example: "  fuelplan fmt examples/*.yaml\n  fuelplan fmt --check lab.yaml",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			return o.Run(s)
		},
	}
	cmd.Flags().BoolVar(&o.check, "check", false, "list files that are not formatted and exit 1; write nothing")
	return cmd
}

func (o *fmtOptions) Complete(args []string) {
	o.files = args
	if len(o.files) == 0 {
		o.files = []string{defaultSpec}
	}
}

func (o *fmtOptions) Run(s *streams) error {
	var unformatted, failed int
	for _, f := range o.files {
		changed, err := o.one(s, f)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(s.err, "%s: %v\n", f, err)
		case changed && o.check:
			unformatted++
			fmt.Fprintln(s.out, f)
		}
	}
	switch {
	case failed > 0:
		return withCode(ExitError, fmt.Errorf("%d of %d files could not be formatted", failed, len(o.files)))
	case unformatted > 0:
		return withCode(ExitError, fmt.Errorf("%d of %d files are not formatted: run fuelplan fmt", unformatted, len(o.files)))
	}
	return nil
}

// one formats a file (or standard input) and reports whether it changed.
func (o *fmtOptions) one(s *streams, path string) (bool, error) {
	var src []byte
	var err error
	if path == "-" {
		src, err = io.ReadAll(io.LimitReader(s.in, specfmt.MaxBytes+1))
	} else {
		src, err = readBounded(path, specfmt.MaxBytes)
	}
	if err != nil {
		return false, err
	}
	out, err := specfmt.Format(src)
	if err != nil {
		return false, err
	}
	changed := !bytes.Equal(out, src)
	switch {
	case path == "-" && !o.check:
		_, err = s.out.Write(out)
	case changed && !o.check:
		err = atomicfile.Write(path, out, 0o644)
	}
	return changed, err
}

// readBounded reads a regular file of at most limit bytes; the error never
// quotes what it read.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, specfmt.ErrTooLarge
	}
	return b, nil
}

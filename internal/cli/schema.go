package cli

import (
	"github.com/fuelplan/fuelplan/specs/jsonschema"
	"github.com/spf13/cobra"
)

// schemaOptions are `fuelplan schema`'s (it has none but the output).
type schemaOptions struct{}

func newSchemaCmd(s *streams) *cobra.Command {
	o := &schemaOptions{}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the spec language as a JSON Schema, for editors",
		Long: `Schema prints a JSON Schema (draft 2020-12) of the spec language, generated
from the same types fuelplan validate decodes. Editors with the YAML language
server complete and check specs that name it: save the output (the repository
ships it as docs/fuelplan.schema.json) and put this line at the top of a spec:

  # yaml-language-server: $schema=path/or/url/to/fuelplan.schema.json

The schema knows fields, types, required keys and closed values; references
between resources, addresses and CIDRs need fuelplan validate.`,
		Example: "  fuelplan schema > fuelplan.schema.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run(s)
		},
	}
}

func (o *schemaOptions) Run(s *streams) error {
	b, err := jsonschema.Generate()
	if err != nil {
		return err
	}
	_, err = s.out.Write(b)
	return err
}
